// Command bench measures orgdb against hand-written database/sql, the
// floor (the same SQL through reused prepared statements) and GORM, on one
// migrated SQLite file, and prints:
//
//	RATIO <op> orgdb/floor=… orgdb/handwritten=… gorm/orgdb=… allocs orgdb=… floor=…
//	SCALE <op> 1e6/1e3=…
//	LOAD ops/s=… busy_errors=… p99_ms=…
//	GENERATE warm_s=…
//
// Variants run interleaved in rounds within one process, so machine drift
// hits them alike; every figure is the median of the rounds, with the
// min–max spread in RESULTS.md. Run it with make bench.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 7, "interleaved rounds of the ratio benchmarks")
	benchtime := flag.Duration("benchtime", 300*time.Millisecond, "time per variant per round")
	scale := flag.Int("scale", 1_000_000, "users and invites in the large database of the scaling benchmark")
	load := flag.Duration("load", 5*time.Second, "duration of each load run")
	out := flag.String("out", "RESULTS.md", "the results file to write")
	parts := flag.String("parts", "ratio,scale,load,generate", "which parts to run, comma-separated")
	flag.Parse()
	run := func(part string) bool { return slices.Contains(strings.Split(*parts, ","), part) }
	testing.Init()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fail(err)
	}

	dir, err := os.MkdirTemp("", "orgdb-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)

	var report strings.Builder
	fmt.Fprintf(&report, "# Benchmark results\n\n%s, %s, %s/%s, %d CPUs, %s.\n\n", time.Now().UTC().Format("2006-01-02"),
		cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())

	for _, p := range []struct {
		name string
		run  func() (string, error)
	}{
		{"ratio", func() (string, error) { return runRatios(dir, *rounds) }},
		{"scale", func() (string, error) { return runScale(dir, *scale) }},
		{"load", func() (string, error) { return runLoad(dir, *load) }},
		{"generate", func() (string, error) { return runGenerate(), nil }},
	} {
		if !run(p.name) {
			continue
		}
		md, err := p.run()
		if err != nil {
			fail(err)
		}
		report.WriteString(md)
	}
	if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
		fail(err)
	}
	fmt.Println("wrote", *out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// stats is one measurement series.
type stats []float64

func (s stats) median() float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c) == 0 {
		return 0
	}
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s stats) spread() string {
	return fmt.Sprintf("%.2f–%.2f", slices.Min(s), slices.Max(s))
}

// runRatios runs every op's variants interleaved, rounds times, and
// reports the per-round ratios' medians.
func runRatios(dir string, rounds int) (string, error) {
	f, err := newFixture(dir)
	if err != nil {
		return "", err
	}
	defer f.close()
	type series struct {
		ns     [nVariants]stats
		allocs [nVariants]stats
	}
	res := make([]series, len(ops))
	for r := range rounds {
		for i, o := range ops {
			for k := range nVariants {
				v := (k + r) % nVariants // rotate which variant goes first
				b := testing.Benchmark(f.benchmark(o, v))
				if b.N == 0 {
					return "", fmt.Errorf("%s/%s failed", o.name, variantNames[v])
				}
				res[i].ns[v] = append(res[i].ns[v], float64(b.NsPerOp()))
				res[i].allocs[v] = append(res[i].allocs[v], float64(b.AllocsPerOp()))
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", r+1, rounds)
	}
	var md strings.Builder
	md.WriteString("## Ratios (median of interleaved rounds; min–max in brackets)\n\n" +
		"| op | orgdb µs | orgdb/floor | orgdb/handwritten | gorm/orgdb | allocs orgdb | allocs floor | targets |\n" +
		"|---|---|---|---|---|---|---|---|\n")
	for i, o := range ops {
		ratio := func(a, b int) stats {
			var s stats
			for r := range rounds {
				s = append(s, res[i].ns[a][r]/res[i].ns[b][r])
			}
			return s
		}
		of, oh, go_ := ratio(vOrgdb, vFloor), ratio(vOrgdb, vHandwritten), ratio(vGorm, vOrgdb)
		ao, af := res[i].allocs[vOrgdb].median(), res[i].allocs[vFloor].median()
		fmt.Printf("RATIO %s orgdb/floor=%.2f orgdb/handwritten=%.2f gorm/orgdb=%.2f allocs orgdb=%.0f floor=%.0f\n",
			o.name, of.median(), oh.median(), go_.median(), ao, af)
		var missed []string
		if o.point && of.median() > 1.15 {
			missed = append(missed, "orgdb/floor ≤ 1.15")
		}
		if o.point && o.read && oh.median() > 0.6 {
			missed = append(missed, "orgdb/handwritten ≤ 0.6")
		}
		if o.point && o.read && go_.median() < 3 {
			missed = append(missed, "gorm/orgdb ≥ 3")
		}
		if ao > af+3 {
			missed = append(missed, "allocs ≤ floor+3")
		}
		verdict := "met"
		if len(missed) > 0 {
			verdict = "MISSED " + strings.Join(missed, ", ")
		}
		if !o.point {
			verdict += " (not a point op: reported only)"
		}
		fmt.Fprintf(&md, "| %s | %.1f | %.2f [%s] | %.2f [%s] | %.2f [%s] | %.0f | %.0f | %s |\n", o.name,
			res[i].ns[vOrgdb].median()/1000, of.median(), of.spread(), oh.median(), oh.spread(), go_.median(), go_.spread(), ao, af, verdict)
	}
	md.WriteString("\nfloor: the same SQL through `*sql.Stmt`s prepared once (inside transactions via `tx.StmtContext`); " +
		"handwritten: the same SQL, prepared by the driver on each call; GORM: default settings. " +
		"Writes include their transaction; SetOrgAPIKey includes sealing in every variant.\n\n")
	return md.String(), nil
}

// runGenerate times a warm make generate (the tools are built by then).
func runGenerate() string {
	var times stats
	for range 4 {
		start := time.Now()
		cmd := exec.Command("make", "-s", "-C", "..", "generate")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Sprintf("## make generate\n\nfailed: %v\n%s\n", err, out)
		}
		times = append(times, time.Since(start).Seconds())
	}
	warm := times[1:].median()
	fmt.Printf("GENERATE warm_s=%.2f\n", warm)
	return fmt.Sprintf("## make generate\n\nwarm wall time %.2f s (median of 3 after a first run; target < 2 s). "+
		"The first run on a fresh machine also builds the pinned sqlc (about 1–3 min) and the cgo SQLite driver (about 90 s).\n", warm)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
