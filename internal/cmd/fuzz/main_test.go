package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestList finds the fuzz targets go test finds, without compiling: in
// a module written here, list must return what go test -list '^Fuzz'
// ./... prints, in a package test, an external test (testing imported
// under another name), a subpackage, not a FuzzX in a file whose build
// constraint excludes it, a method, or a Fuzzy helper.
func TestList(t *testing.T) {
	root := t.TempDir()
	for name, src := range map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.26\n",
		"m.go":              "package m\n",
		"a_test.go":         "package m\n\nimport \"testing\"\n\nfunc FuzzA(f *testing.F) { f.Fuzz(func(*testing.T, string) {}) }\n\nfunc Fuzzy() {}\n\nfunc Fuzz(f *testing.F) {}\n\nfunc TestA(t *testing.T) {}\n",
		"b_test.go":         "package m\n\nimport \"testing\"\n\ntype T struct{}\n\nfunc (T) FuzzM(f *testing.F) {}\n\nfunc FuzzB(f *testing.F) {}\n",
		"never_test.go":     "//go:build never\n\npackage m\n\nimport \"testing\"\n\nfunc FuzzNever(f *testing.F) {}\n",
		"x_test.go":         "package m_test\n\nimport tt \"testing\"\n\nfunc FuzzX(f *tt.F) {}\n",
		"sub/sub.go":        "package sub\n",
		"sub/sub_test.go":   "package sub\n\nimport \"testing\"\n\nfunc FuzzSub_1(f *testing.F) {}\n",
		"notests/notest.go": "package notests\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := list("go", root)
	if err != nil {
		t.Fatal(err)
	}
	// -race: make test runs this under the race detector, so the few
	// standard packages a test binary needs are already built that way.
	cmd := exec.Command("go", "test", "-race", "-list", "^Fuzz", "./...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -list: %v\n%s", err, out)
	}
	want := goTestList(t, string(out), map[string]string{"example.com/m": ".", "example.com/m/sub": "sub"})
	if len(want) != 5 {
		t.Fatalf("go test -list found %d targets, want the 5 this test writes:\n%s", len(want), out)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list = %+v\ngo test -list: %+v", got, want)
	}
}

// goTestList reads the output of go test -list: each package's names,
// then its "ok" line.
func goTestList(t *testing.T, out string, dirs map[string]string) []target {
	var targets, names = []target(nil), []string(nil)
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			names = append(names, f[0])
		case len(f) >= 2 && f[0] == "ok":
			for _, n := range names {
				targets = append(targets, target{Pkg: f[1], Dir: dirs[f[1]], Name: n})
			}
			names = nil
		}
	}
	if len(names) > 0 {
		t.Fatalf("go test -list: targets %s without their package line", names)
	}
	return targets
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
