package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// results is the sec/op samples of each benchmark in one file, in order of
// first appearance.
type results struct {
	names   []string
	samples map[string][]float64
}

// readResults reads a Go benchmark format file.
func readResults(path string) (results, error) {
	res := results{samples: map[string][]float64{}}
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			return res, fmt.Errorf("%w", rec)
		case *benchfmt.Result:
			v, ok := rec.Value("sec/op")
			if !ok {
				continue
			}
			name := rec.Name.String()
			if _, seen := res.samples[name]; !seen {
				res.names = append(res.names, name)
			}
			res.samples[name] = append(res.samples[name], v)
		}
	}
	return res, r.Err()
}

// finding is the comparison of one benchmark.
type finding struct {
	name        string
	base, head  benchmath.Summary // medians, sec/op
	cmp         benchmath.Comparison
	delta       float64 // head/base − 1
	onlyIn      string  // "base" or "head" when the other lacks it
	significant bool
	regression  bool // significantly slower by more than the threshold
}

func (f finding) String() string {
	switch {
	case f.onlyIn != "":
		return fmt.Sprintf("%s: only in %s, not compared", f.name, f.onlyIn)
	case f.regression:
		return fmt.Sprintf("%s: %+.1f%% (%s → %s per op, %s)", f.name, 100*f.delta, dur(f.base.Center), dur(f.head.Center), f.cmp)
	}
	return f.name
}

// judge compares every benchmark present in both files with benchmath's
// distribution-free test (Mann-Whitney U, as benchstat does) and flags the
// ones significantly slower by more than threshold percent.
func judge(base, head results, threshold float64) []finding {
	var out []finding
	for _, name := range base.names {
		hs, ok := head.samples[name]
		if !ok {
			out = append(out, finding{name: name, onlyIn: "base"})
			continue
		}
		b := benchmath.NewSample(append([]float64(nil), base.samples[name]...), &benchmath.DefaultThresholds)
		h := benchmath.NewSample(append([]float64(nil), hs...), &benchmath.DefaultThresholds)
		f := finding{name: name,
			base: benchmath.AssumeNothing.Summary(b, 0.95),
			head: benchmath.AssumeNothing.Summary(h, 0.95),
			cmp:  benchmath.AssumeNothing.Compare(b, h),
		}
		f.delta = f.head.Center/f.base.Center - 1
		f.significant = f.cmp.P < f.cmp.Alpha
		f.regression = f.significant && f.delta > threshold/100
		out = append(out, f)
	}
	for _, name := range head.names {
		if _, ok := base.samples[name]; !ok {
			out = append(out, finding{name: name, onlyIn: "head"})
		}
	}
	return out
}

func printFindings(w io.Writer, findings []finding) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tbase\thead\tdelta\ttest\tverdict")
	for _, f := range findings {
		if f.onlyIn != "" {
			fmt.Fprintf(tw, "%s\t\t\t\t\tonly in %s\n", f.name, f.onlyIn)
			continue
		}
		verdict := "~ (no significant change)"
		switch {
		case f.regression:
			verdict = "SLOWER: fails"
		case f.significant && f.delta > 0:
			verdict = "slower, within the threshold"
		case f.significant:
			verdict = "faster"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%+.1f%%\t%s\t%s\n", f.name, dur(f.base.Center), dur(f.head.Center), 100*f.delta, f.cmp, verdict)
	}
	tw.Flush()
}

// dur formats seconds per op.
func dur(sec float64) string {
	switch {
	case sec >= 1e-3:
		return fmt.Sprintf("%.2fms", sec*1e3)
	case sec >= 1e-6:
		return fmt.Sprintf("%.1fµs", sec*1e6)
	}
	return fmt.Sprintf("%.0fns", sec*1e9)
}
