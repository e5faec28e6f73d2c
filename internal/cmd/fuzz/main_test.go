package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	out := "FuzzA\nFuzzB\nok  \texample.com/m\t0.004s\n?   \texample.com/m/x\t[no test files]\nok  \texample.com/m/y\t0.003s\nFuzzC\nok  \texample.com/m/z\t(cached)\n"
	dirs := map[string]string{"example.com/m": ".", "example.com/m/y": "y", "example.com/m/z": "z"}
	got, err := parseList(out, dirs)
	if err != nil {
		t.Fatal(err)
	}
	want := []target{{"example.com/m", ".", "FuzzA"}, {"example.com/m", ".", "FuzzB"}, {"example.com/m/z", "z", "FuzzC"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseList = %+v, want %+v", got, want)
	}
	if _, err := parseList("FuzzA\n", dirs); err == nil {
		t.Fatal("a target without its package line was accepted")
	}
}

func TestJudge(t *testing.T) {
	tg := target{Pkg: "example.com/m/seal", Dir: "seal", Name: "FuzzOpen"}
	for _, c := range []struct {
		name, out string
		passed    bool
		wantOK    bool
		wants     []string
	}{
		{"pass", "fuzz: elapsed: 3s, execs: 100 (33/sec)\nfuzz: elapsed: 5s, execs: 250 (0/sec)\nPASS\n", true, true, []string{"ok, 250 executions"}},
		{"finding", "fuzz: elapsed: 3s, execs: 4242 (1414/sec)\n--- FAIL: FuzzOpen (3.00s)\n    --- FAIL: FuzzOpen (0.00s)\n        fuzz_test.go:1: bad\n\n    Failing input written to testdata/fuzz/FuzzOpen/e4e09efed4d5648c\n    To re-run:\n    go test -run=FuzzOpen/e4e09efed4d5648c\nFAIL\n", false, false,
			[]string{"FOUND A FAILING INPUT after 4242 executions", "seal/testdata/fuzz/FuzzOpen/e4e09efed4d5648c", "go test -run='FuzzOpen/e4e09efed4d5648c' ./seal", "commit the file"}},
		{"deadline race", "fuzz: elapsed: 30s, execs: 230517 (15160/sec)\nfuzz: elapsed: 30s, execs: 230517 (0/sec), new interesting: 94 (total: 107)\n--- FAIL: FuzzOpen (30.10s)\n    context deadline exceeded\nFAIL\nexit status 1\n", false, true,
			[]string{"ok, 230517 executions", "golang/go#75804"}},
		{"seed fails", "failure while testing seed corpus entry: FuzzOpen/seed#0\n--- FAIL: FuzzOpen (0.02s)\n    --- FAIL: FuzzOpen (0.00s)\n        fuzz_test.go:1: bad\nFAIL\n", false, false,
			[]string{"FAILED without fuzzing to the end", "go test -run='^FuzzOpen$' ./seal"}},
		{"build error", "# example.com/m/seal\nseal.go:1: syntax error\nFAIL\texample.com/m/seal [build failed]\n", false, false, []string{"FAILED"}},
	} {
		verdict, ok := judge(tg, c.passed, c.out)
		if ok != c.wantOK {
			t.Errorf("%s: judge = %q, %v; want ok %v", c.name, verdict, ok, c.wantOK)
		}
		for _, w := range c.wants {
			if !strings.Contains(verdict, w) {
				t.Errorf("%s: verdict %q lacks %q", c.name, verdict, w)
			}
		}
	}
}
