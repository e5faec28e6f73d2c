// Command fuzz runs every fuzz target of the module, one after the other,
// for -fuzztime each: make fuzz (FUZZTIME, default 30s) and CI (60 s each)
// use it. Targets are found in every package's test files (the ones go
// list names: what go test -list '^Fuzz' ./... lists, without compiling),
// so a new target is fuzzed with no edit here or in the Makefile.
//
// A finding fails the run after every target has run. Go writes the
// failing input under the package's testdata/fuzz/<Target>/; the message
// says where, how to reproduce it, and to commit it once fixed (it then
// stays a seed that go test runs every time).
//
// Go 1.26's fuzz coordinator can end a clean run with "context deadline
// exceeded" when -fuzztime expires while a worker is busy
// (golang/go#75804, fixed in Go 1.27). Such a run wrote no input and
// fuzzed for the whole duration, so it is reported as a pass with a note.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// target is one fuzz target.
type target struct {
	Pkg  string // import path
	Dir  string // the package directory, relative to the module root
	Name string // FuzzX
}

func main() {
	goCmd := flag.String("go", "go", "the go command")
	fuzztime := flag.String("fuzztime", "30s", "how long to fuzz each target (a duration, or Nx executions)")
	minimize := flag.String("minimizetime", "5s", "the most time spent minimizing one new input (go test -fuzzminimizetime); Go's default, 60s, can take most of a short run")
	parallel := flag.Int("parallel", 0, "fuzzing workers per target (0: GOMAXPROCS)")
	run := flag.String("run", "", "fuzz only the targets whose name matches this regexp")
	flag.Parse()
	if err := fuzzAll(os.Stdout, *goCmd, *fuzztime, *minimize, *parallel, *run); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz:", err)
		os.Exit(1)
	}
}

func fuzzAll(w io.Writer, goCmd, fuzztime, minimize string, parallel int, run string) error {
	only, err := regexp.Compile(run)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	targets, err := list(goCmd, root)
	if err != nil {
		return err
	}
	var summary []string
	failed := 0
	for _, t := range targets {
		if !only.MatchString(t.Name) {
			continue
		}
		if len(summary) == 0 {
			fmt.Fprintln(w, "fuzz: the first target compiles its package and every dependency with coverage instrumentation for fuzzing, "+
				"the cgo SQLite driver among them: about 3-6 min on 2 cores on a cold cache, once")
		}
		fmt.Fprintf(w, "fuzz: %s in ./%s for %s\n", t.Name, t.Dir, fuzztime)
		args := []string{"test", "-run=^$", "-fuzz=^" + t.Name + "$", "-fuzztime=" + fuzztime, "-fuzzminimizetime=" + minimize}
		if parallel > 0 {
			args = append(args, fmt.Sprintf("-parallel=%d", parallel))
		}
		cmd := exec.Command(goCmd, append(args, "./"+t.Dir)...)
		var out bytes.Buffer
		cmd.Stdout = io.MultiWriter(w, &out)
		cmd.Stderr = cmd.Stdout
		runErr := cmd.Run()
		var exit *exec.ExitError
		if runErr != nil && !errors.As(runErr, &exit) {
			return fmt.Errorf("run go test for %s: %w", t.Name, runErr)
		}
		verdict, ok := judge(t, runErr == nil, out.String())
		if !ok {
			failed++
		}
		fmt.Fprintf(w, "fuzz: %s\n", verdict)
		summary = append(summary, verdict)
	}
	if len(summary) == 0 {
		return fmt.Errorf("no fuzz target matches %q", run)
	}
	fmt.Fprintf(w, "fuzz: summary (%s each):\n  %s\n", fuzztime, strings.Join(summary, "\n  "))
	if failed > 0 {
		return fmt.Errorf("%d of %d targets failed (see above)", failed, len(summary))
	}
	return nil
}

// list returns the fuzz targets of every package of the module under
// root: the functions FuzzXxx(f *testing.F) of the test files go list
// names for the package (those that build here), in file order. They are
// found by parsing, so listing compiles nothing; go test -list '^Fuzz'
// would compile and link every package's tests first, minutes on a cold
// cache and a minute warm.
func list(goCmd, root string) ([]target, error) {
	cmd := exec.Command(goCmd, "list", "-f", `{{.ImportPath}}{{"\t"}}{{.Dir}}{{range .TestGoFiles}}{{"\t"}}{{.}}{{end}}{{range .XTestGoFiles}}{{"\t"}}{{.}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", stderrOf(err))
	}
	var targets []target
	fset := token.NewFileSet()
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("go list: unexpected line %q", line)
		}
		pkg, dir := f[0], f[1]
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return nil, err
		}
		for _, name := range f[2:] {
			file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, fmt.Errorf("find fuzz targets: %w", err)
			}
			for _, d := range file.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && isFuzzTarget(fn) {
					targets = append(targets, target{Pkg: pkg, Dir: filepath.ToSlash(rel), Name: fn.Name.Name})
				}
			}
		}
	}
	return targets, nil
}

// isFuzzTarget reports whether fn is what go test runs as a fuzz target:
// named Fuzz or FuzzX with X not a lower-case letter, taking one
// *testing.F (the rule of go test's own scan, cmd/go/internal/load).
func isFuzzTarget(fn *ast.FuncDecl) bool {
	rest, ok := strings.CutPrefix(fn.Name.Name, "Fuzz")
	if !ok {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(rest); rest != "" && unicode.IsLower(r) {
		return false
	}
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	switch t := star.X.(type) {
	case *ast.SelectorExpr:
		return t.Sel.Name == "F"
	case *ast.Ident: // import . "testing"
		return t.Name == "F"
	}
	return false
}

var (
	execsRe   = regexp.MustCompile(`execs: (\d+)`)
	writtenRe = regexp.MustCompile(`Failing input written to (\S+)`)
	rerunRe   = regexp.MustCompile(`go test -run=(\S+)`)
)

// judge reads one target's go test output and returns a one-line verdict
// and whether the target passed.
func judge(t target, passed bool, out string) (string, bool) {
	execs := "?"
	if m := execsRe.FindAllStringSubmatch(out, -1); m != nil {
		execs = m[len(m)-1][1]
	}
	if passed {
		return fmt.Sprintf("%s (./%s): ok, %s executions", t.Name, t.Dir, execs), true
	}
	if m := writtenRe.FindStringSubmatch(out); m != nil {
		file := filepath.ToSlash(filepath.Join(t.Dir, m[1]))
		rerun := t.Name
		if r := rerunRe.FindStringSubmatch(out); r != nil {
			rerun = r[1]
		}
		after := ""
		if execs != "?" {
			after = " after " + execs + " executions"
		}
		return fmt.Sprintf("%s (./%s): FOUND A FAILING INPUT%s, saved as %s. "+
			"Reproduce with: go test -run='%s' ./%s. Fix the code (or the test if its oracle is wrong), "+
			"and commit the file: it stays a seed that go test runs every time", t.Name, t.Dir, after, file, rerun, t.Dir), false
	}
	if deadlineRace(out) {
		return fmt.Sprintf("%s (./%s): ok, %s executions (go test ended with \"context deadline exceeded\" and no failing input: "+
			"Go's fuzz deadline race, golang/go#75804, fixed in Go 1.27)", t.Name, t.Dir, execs), true
	}
	return fmt.Sprintf("%s (./%s): FAILED without fuzzing to the end (a seed input in testdata/fuzz or f.Add failing, or a build error): see the output above; "+
		"reproduce with: go test -run='^%s$' ./%s", t.Name, t.Dir, t.Name, t.Dir), false
}

// deadlineRace reports whether the only failure in out is the fuzz
// coordinator's "context deadline exceeded" at the end of -fuzztime.
func deadlineRace(out string) bool {
	if strings.Contains(out, "failure while testing seed corpus") || strings.Contains(out, "panic:") {
		return false
	}
	fails := 0
	for line := range strings.Lines(out) {
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") {
			fails++
		}
	}
	return fails == 1 && regexp.MustCompile(`(?m)^--- FAIL: Fuzz\w+ \([0-9.]+s\)\n\s+context deadline exceeded\n`).MatchString(out)
}

// stderrOf adds the command's standard error to err.
func stderrOf(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) && len(exit.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(exit.Stderr))
	}
	return err
}
