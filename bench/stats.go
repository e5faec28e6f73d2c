package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"golang.org/x/perf/benchmath"
)

// confidence is the level of every interval the bench reports.
const confidence = 0.95

// summary is a figure's median and its confidence interval, computed by
// golang.org/x/perf/benchmath (the statistics behind benchstat): the
// distribution-free interval of the median from order statistics.
type summary struct {
	benchmath.Summary
	n int // rounds behind it
}

// summarize returns the median of values and its 95% confidence interval.
// Fewer than 6 values give an infinite interval (benchmath needs 6 for a
// finite 95% interval of the median), which no target accepts.
func summarize(values []float64) summary {
	s := benchmath.NewSample(slices.Clone(values), &benchmath.DefaultThresholds)
	return summary{benchmath.AssumeNothing.Summary(s, confidence), len(values)}
}

// interval formats the confidence interval, or says why there is none.
func (s summary) interval() string {
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return "none: needs ≥ 6 rounds"
	}
	return "[" + num(s.Lo) + ", " + num(s.Hi) + "]"
}

// verdict is what an interval says about a target.
type verdict int

const (
	unclear  verdict = iota // the interval straddles the bound: rerun with more rounds
	met                     // the whole interval is inside the target
	missed                  // the whole interval is outside the target
	reported                // the figure has no target
)

func (v verdict) String() string {
	return [...]string{"unclear", "met", "MISSED", "reported"}[v]
}

// target is a bound a figure must stay on the right side of.
type target struct {
	cmp   string // "≤", "<" or "≥"
	bound float64
}

func (t target) String() string { return fmt.Sprintf("%s %g", t.cmp, t.bound) }

// inside reports whether x is inside the target.
func (t target) inside(x float64) bool {
	switch t.cmp {
	case "≤":
		return x <= t.bound
	case "<":
		return x < t.bound
	default:
		return x >= t.bound
	}
}

// judge is met when the whole interval is inside the target, missed when
// the whole interval is outside it, and unclear otherwise (including an
// infinite interval from too few rounds).
func (t target) judge(s summary) verdict {
	switch {
	case math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || math.IsNaN(s.Center):
		return unclear
	case t.inside(s.Lo) && t.inside(s.Hi):
		return met
	case !t.inside(s.Lo) && !t.inside(s.Hi):
		return missed
	}
	return unclear
}

// figure is one reported number: a series of per-round values, summarized
// by its median and 95% interval, with an optional target.
type figure struct {
	part   string  // ratio, scale, load, generate
	name   string  // what was measured, e.g. "GetOrgSettings orgdb/floor"
	unit   string  // "" for a ratio
	target *target // nil: reported only
	values []float64
	note   string // shown beside the figure in RESULTS.md
	// total judges and shows the sum of the values rather than their
	// median: a count that must stay within the target in every run.
	total bool
}

func (f *figure) add(v float64) { f.values = append(f.values, v) }

func (f *figure) summary() summary { return summarize(f.values) }

func (f *figure) sum() float64 {
	var t float64
	for _, v := range f.values {
		t += v
	}
	return t
}

// verdict judges the figure against its target.
func (f *figure) verdict() verdict {
	switch {
	case f.target == nil:
		return reported
	case f.total && f.target.inside(f.sum()):
		return met
	case f.total:
		return missed
	}
	return f.target.judge(f.summary())
}

// unclear reports whether the figure has a target and its interval does
// not yet decide it.
func (f *figure) unclear() bool { return f.target != nil && f.verdict() == unclear }

// num formats a figure's value with three significant digits.
func num(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "∞"
	case math.IsInf(x, -1):
		return "−∞"
	case x == 0 || math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3f", x)
}

func (f *figure) targetString() string {
	if f.target == nil {
		return "—"
	}
	if f.unit == "" {
		return f.target.String()
	}
	return f.target.String() + " " + f.unit
}

// print writes the figure as one line of make bench's output: median, 95%
// interval, target, verdict.
func (f *figure) print(w io.Writer) {
	s := f.summary()
	unit := ""
	if f.unit != "" {
		unit = " " + f.unit
	}
	value, interval := "median "+num(s.Center)+unit, "95% CI "+s.interval()
	if f.total {
		value, interval = "total  "+num(f.sum())+unit, "summed over the runs"
	}
	fmt.Fprintf(w, "%-8s %-42s %-17s %-26s target %-10s %-8s n=%d\n", f.part, f.name, value, interval,
		f.targetString(), f.verdict(), s.n)
}

// markdown writes the figures as a table.
func markdown(w io.Writer, figs []*figure) {
	fmt.Fprintf(w, "| figure | median | 95%% interval | target | verdict | rounds |\n|---|---|---|---|---|---|\n")
	for _, f := range figs {
		s := f.summary()
		unit := ""
		if f.unit != "" {
			unit = " " + f.unit
		}
		v := f.verdict().String()
		if f.note != "" {
			v += " (" + f.note + ")"
		}
		if f.total {
			fmt.Fprintf(w, "| %s | total %s%s | — | %s | %s | %d |\n", f.name, num(f.sum()), unit, f.targetString(), v, s.n)
			continue
		}
		fmt.Fprintf(w, "| %s | %s%s | %s | %s | %s | %d |\n", f.name, num(s.Center), unit, s.interval(),
			f.targetString(), v, s.n)
	}
	fmt.Fprintln(w)
}

// refine reruns the units (an op, a load run…) whose figures are unclear,
// one more batch at a time, until every verdict is clear or budget is spent.
// It returns the batches it ran.
func refine(budget time.Duration, units int, unclear func(u int) bool, more func(u int) error) (int, error) {
	deadline := time.Now().Add(budget)
	batches := 0
	for time.Now().Before(deadline) {
		ran := false
		for u := range units {
			if !unclear(u) || !time.Now().Before(deadline) {
				continue
			}
			if err := more(u); err != nil {
				return batches, err
			}
			ran = true
			batches++
		}
		if !ran {
			break
		}
	}
	return batches, nil
}
