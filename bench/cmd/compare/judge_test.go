package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBench writes a Go benchmark format file: for each benchmark, ten
// results of ns/op around its centre (±2%, in a fixed pattern).
func writeBench(t *testing.T, name string, centres map[string]float64, order []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/agentops/orgdb/bench\n")
	for r := range 10 {
		for _, bench := range order {
			jitter := 1 + 0.02*float64(r%5-2)/2
			fmt.Fprintf(&b, "Benchmark%s-2\t1000\t%.0f ns/op\t100 B/op\t3 allocs/op\n", bench, centres[bench]*jitter)
		}
	}
	b.WriteString("PASS\n")
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJudgeFailsOnlySignificantSlowdownsOverThreshold(t *testing.T) {
	order := []string{"Ops/Same/orgdb", "Ops/Slower/orgdb", "Ops/SlightlySlower/orgdb", "Ops/Faster/orgdb", "Scale/Gone"}
	base := writeBench(t, "base.txt", map[string]float64{
		"Ops/Same/orgdb": 10000, "Ops/Slower/orgdb": 10000, "Ops/SlightlySlower/orgdb": 10000, "Ops/Faster/orgdb": 10000, "Scale/Gone": 5000,
	}, order)
	head := writeBench(t, "head.txt", map[string]float64{
		"Ops/Same/orgdb": 10000, "Ops/Slower/orgdb": 13000, "Ops/SlightlySlower/orgdb": 10500, "Ops/Faster/orgdb": 7000, "Scale/New": 5000,
	}, []string{"Ops/Same/orgdb", "Ops/Slower/orgdb", "Ops/SlightlySlower/orgdb", "Ops/Faster/orgdb", "Scale/New"})

	b, err := readResults(base)
	if err != nil {
		t.Fatal(err)
	}
	h, err := readResults(head)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(b.samples["Ops/Same/orgdb-2"]); got != 10 {
		t.Fatalf("read %d samples of Ops/Same/orgdb-2, want 10 (names: %v)", got, b.names)
	}
	got := map[string]finding{}
	for _, f := range judge(b, h, 10) {
		got[f.name] = f
	}
	for name, want := range map[string]struct{ significant, regression bool }{
		"Ops/Same/orgdb-2":           {false, false},
		"Ops/Slower/orgdb-2":         {true, true},
		"Ops/SlightlySlower/orgdb-2": {true, false}, // +5%: significant, within 10%
		"Ops/Faster/orgdb-2":         {true, false},
	} {
		f, ok := got[name]
		if !ok {
			t.Errorf("%s not compared", name)
			continue
		}
		if f.significant != want.significant || f.regression != want.regression {
			t.Errorf("%s: significant %v, regression %v (delta %+.1f%%, %s); want %v, %v", name, f.significant, f.regression, 100*f.delta, f.cmp, want.significant, want.regression)
		}
	}
	if f := got["Ops/Slower/orgdb-2"]; !strings.Contains(f.String(), "Ops/Slower/orgdb-2: +30.0%") {
		t.Errorf("the failure message %q should name the op and its slowdown", f.String())
	}
	if got["Scale/Gone-2"].onlyIn != "base" || got["Scale/New-2"].onlyIn != "head" {
		t.Errorf("benchmarks in one file only: %+v, %+v", got["Scale/Gone-2"], got["Scale/New-2"])
	}
}

func TestReadResultsRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(path, []byte("BenchmarkX-2\t10\tfast ns/op\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readResults(path); err == nil {
		t.Error("a malformed result line was accepted")
	}
}
