package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// series returns n values spread evenly over [lo, hi].
func series(n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return v
}

func TestSummarizeIsMedianWithInterval(t *testing.T) {
	s := summarize(series(21, 1, 3))
	if s.Center != 2 {
		t.Errorf("median = %v, want 2", s.Center)
	}
	if !(s.Lo < 2 && s.Lo > 1 && s.Hi > 2 && s.Hi < 3) {
		t.Errorf("95%% interval [%v, %v] should lie strictly inside the range [1, 3] and around 2", s.Lo, s.Hi)
	}
	if s.Confidence < confidence {
		t.Errorf("confidence %v < %v", s.Confidence, confidence)
	}
	few := summarize(series(5, 1, 3))
	if !math.IsInf(few.Lo, -1) && !math.IsInf(few.Hi, 1) {
		t.Errorf("5 rounds gave a finite interval [%v, %v]; benchmath needs 6", few.Lo, few.Hi)
	}
}

func TestTargetVerdicts(t *testing.T) {
	tests := []struct {
		name   string
		target target
		values []float64
		want   verdict
	}{
		{"inside ≤", target{"≤", 1.15}, series(20, 0.8, 1.0), met},
		{"outside ≤", target{"≤", 1.15}, series(20, 1.2, 1.4), missed},
		{"straddles ≤", target{"≤", 1.15}, series(20, 1.0, 1.3), unclear},
		{"bound itself is inside ≤", target{"≤", 3}, series(20, 3, 3), met},
		{"bound itself is outside <", target{"<", 2}, series(20, 2, 2), missed},
		{"inside ≥", target{"≥", 3}, series(20, 3.5, 5), met},
		{"outside ≥", target{"≥", 3}, series(20, 1, 2.5), missed},
		{"too few rounds", target{"≤", 1.15}, series(5, 0.1, 0.2), unclear},
	}
	for _, tt := range tests {
		f := &figure{name: tt.name, target: &tt.target, values: tt.values}
		if got := f.verdict(); got != tt.want {
			s := f.summary()
			t.Errorf("%s: verdict %v, want %v (median %v, interval [%v, %v])", tt.name, got, tt.want, s.Center, s.Lo, s.Hi)
		}
		if got := f.unclear(); got != (tt.want == unclear) {
			t.Errorf("%s: unclear() = %v", tt.name, got)
		}
	}
	if v := (&figure{values: series(20, 1, 2)}).verdict(); v != reported {
		t.Errorf("a figure without target: verdict %v, want reported", v)
	}
}

func TestTotalJudgesTheSum(t *testing.T) {
	f := &figure{target: &target{"≤", 0}, total: true, values: []float64{0, 0, 0, 0, 0, 0, 0}}
	if v := f.verdict(); v != met {
		t.Errorf("no errors in any run: %v, want met", v)
	}
	f.add(1) // one error in one run out of eight: the median is still 0
	if v := f.verdict(); v != missed {
		t.Errorf("one error in one run: %v, want missed", v)
	}
}

func TestPrintShowsMedianIntervalTargetVerdict(t *testing.T) {
	f := &figure{part: "ratio", name: "Op orgdb/floor", target: &target{"≤", 1.15}, values: series(20, 0.8, 1.0)}
	var b strings.Builder
	f.print(&b)
	s := f.summary()
	for _, want := range []string{"Op orgdb/floor", "median " + num(s.Center), "95% CI [" + num(s.Lo) + ", " + num(s.Hi) + "]", "≤ 1.15", "met", "n=20"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("line %q lacks %q", b.String(), want)
		}
	}
	var md strings.Builder
	markdown(&md, []*figure{f})
	if !strings.Contains(md.String(), "| Op orgdb/floor | "+num(s.Center)+" | ["+num(s.Lo)+", "+num(s.Hi)+"] | ≤ 1.15 | met | 20 |") {
		t.Errorf("markdown row missing or wrong:\n%s", md.String())
	}
}

func TestRefineStopsWhenClearOrOutOfTime(t *testing.T) {
	// A figure that becomes clear after two more batches.
	f := &figure{target: &target{"≤", 1.15}, values: series(6, 1.0, 1.3)}
	batches, err := refine(time.Minute, 1, func(int) bool { return f.unclear() }, func(int) error {
		for range 20 {
			f.add(1.0)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.verdict() != met || batches < 1 {
		t.Errorf("after %d batches: %v, want met", batches, f.verdict())
	}
	// A figure that never becomes clear stops at the budget.
	g := &figure{target: &target{"≤", 1.15}, values: series(6, 1.0, 1.3)}
	start := time.Now()
	batches, err = refine(50*time.Millisecond, 1, func(int) bool { return g.unclear() }, func(int) error {
		g.add(1.0)
		g.add(1.3)
		time.Sleep(5 * time.Millisecond) // stands in for measuring: refine's budget is wall time
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second || batches == 0 || g.verdict() != unclear {
		t.Errorf("refine ran %d batches in %s, verdict %v: want a few batches within its 50ms budget, still unclear", batches, el, g.verdict())
	}
}
