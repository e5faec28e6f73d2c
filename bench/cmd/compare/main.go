// Command compare is make bench-compare: it builds the bench module's
// benchmarks at a base git ref (that ref's own bench module against that
// ref's own code) and in the working tree, runs the two builds interleaved,
// round by round, writes both results in the Go benchmark format, prints
// benchstat's comparison, and exits non-zero when an operation got
// significantly slower (Mann-Whitney U test, p < 0.05, the test benchstat
// uses) by more than -threshold percent.
//
//	go run ./cmd/compare -base HEAD~1
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// defaultPatterns are the benchmarks compared: orgdb's variant of every op
// of BenchmarkOps (the other variants do not run orgdb's code), and the
// scaling ops on a larger database, where a lost index shows.
var defaultPatterns = []string{"^BenchmarkOps$/./^orgdb$", "^BenchmarkScale$"}

func main() {
	base := flag.String("base", "", "the git ref to compare the working tree against (required), e.g. HEAD~1 or main")
	rounds := flag.Int("rounds", 10, "interleaved rounds: each runs every benchmark once in each build")
	benchtime := flag.String("benchtime", "200ms", "-test.benchtime of each benchmark run")
	threshold := flag.Float64("threshold", 10, "fail when an op got significantly slower by more than this many percent")
	out := flag.String("out", "", "directory for base.txt and head.txt (default: a new temporary directory, kept)")
	goCmd := flag.String("go", "go", "the go command")
	var patterns []string
	flag.Func("bench", "a -test.bench pattern to compare (repeatable; default: "+strings.Join(defaultPatterns, " and ")+")", func(s string) error {
		patterns = append(patterns, s)
		return nil
	})
	flag.Parse()
	if len(patterns) == 0 {
		patterns = defaultPatterns
	}
	if *base == "" {
		fail(errors.New("no base ref: run make bench-compare BASE=<git ref>, e.g. BASE=HEAD~1 or BASE=main"))
	}
	c := &comparison{base: *base, rounds: *rounds, benchtime: *benchtime, patterns: patterns, goCmd: *goCmd, out: *out}
	regressions, err := c.run(*threshold)
	if err != nil {
		fail(err)
	}
	if len(regressions) > 0 {
		fmt.Fprintf(os.Stderr, "\nbench-compare: FAILED: %d operation(s) got significantly slower than %s by more than %.0f%%:\n", len(regressions), c.base, *threshold)
		for _, r := range regressions {
			fmt.Fprintf(os.Stderr, "  %s\n", r)
		}
		fmt.Fprintf(os.Stderr, "Find the cause before merging (a lost index shows in EXPLAIN QUERY PLAN; see store/plan_test.go), "+
			"or, if the cost is intended, say so in the change. Results: %s\n", c.out)
		os.Exit(1)
	}
	fmt.Printf("bench-compare: no operation got significantly slower than %s by more than %.0f%% (results: %s)\n", c.base, *threshold, c.out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-compare:", err)
	os.Exit(2)
}

// comparison is one run of make bench-compare.
type comparison struct {
	base      string
	rounds    int
	benchtime string
	patterns  []string
	goCmd     string
	out       string
}

// build is one side of the comparison: a bench module and its test binary.
type build struct {
	label string // base or head
	dir   string // the bench module
	bin   string // its compiled tests
	out   *os.File
}

func (c *comparison) run(threshold float64) ([]string, error) {
	start := time.Now()
	root, err := git("", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("not in a git work tree: %w", err)
	}
	sha, err := git(root, "rev-parse", "--verify", "--quiet", c.base+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("unknown git ref %q: give a branch, tag or commit (git log --oneline lists them)", c.base)
	}
	tmp, err := os.MkdirTemp("", "orgdb-bench-compare")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if c.out == "" {
		if c.out, err = os.MkdirTemp("", "orgdb-bench-compare-results"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.out, 0o755); err != nil {
		return nil, err
	}

	// The base tree, as committed at the ref.
	baseRoot := filepath.Join(tmp, "base")
	if err := extract(root, sha, baseRoot); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(baseRoot, "bench", "go.mod")); err != nil {
		return nil, fmt.Errorf("%s (%.12s) has no bench module (bench/go.mod): nothing to compare against; pick a later ref", c.base, sha)
	}
	builds := []*build{
		{label: "base", dir: filepath.Join(baseRoot, "bench"), bin: filepath.Join(tmp, "base.test")},
		{label: "head", dir: filepath.Join(root, "bench"), bin: filepath.Join(tmp, "head.test")},
	}
	for _, b := range builds {
		fmt.Fprintf(os.Stderr, "building the %s benchmarks…\n", b.label)
		cmd := exec.Command(c.goCmd, "test", "-c", "-o", b.bin, ".")
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build the %s benchmarks (go test -c in %s): %w\n%s", b.label, b.dir, err, out)
		}
		if b.out, err = os.Create(filepath.Join(c.out, b.label+".txt")); err != nil {
			return nil, err
		}
		defer b.out.Close()
	}
	fmt.Fprintf(os.Stderr, "base: %s (%.12s); head: the working tree of %s; %d rounds\n", c.base, sha, root, c.rounds)

	// Interleave: in each round every pattern runs in both builds back to
	// back, the order alternating from round to round.
	for r := range c.rounds {
		for _, p := range c.patterns {
			for k := range builds {
				b := builds[(k+r)%len(builds)]
				if err := c.bench(b, p); err != nil {
					return nil, err
				}
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done (%s)\n", r+1, c.rounds, time.Since(start).Round(time.Second))
	}
	for _, b := range builds {
		if err := b.out.Close(); err != nil {
			return nil, err
		}
	}

	basePath, headPath := builds[0].out.Name(), builds[1].out.Name()
	cmd := exec.Command(c.goCmd, "tool", "benchstat", "base="+basePath, "head="+headPath)
	cmd.Dir = builds[1].dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Printf("benchstat base=%s head=%s\n\n", basePath, headPath)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("benchstat: %w", err)
	}

	baseRes, err := readResults(basePath)
	if err != nil {
		return nil, err
	}
	headRes, err := readResults(headPath)
	if err != nil {
		return nil, err
	}
	findings := judge(baseRes, headRes, threshold)
	fmt.Printf("\nVerdict per operation (sec/op; significant: p < 0.05; fails when significantly slower by more than %.0f%%):\n\n", threshold)
	printFindings(os.Stdout, findings)
	fmt.Printf("\nwall time %s\n", time.Since(start).Round(time.Second))
	var regressions []string
	for _, f := range findings {
		if f.regression {
			regressions = append(regressions, f.String())
		}
	}
	return regressions, nil
}

// bench runs the benchmarks matching pattern once in b and appends their
// results to b's file.
func (c *comparison) bench(b *build, pattern string) error {
	cmd := exec.Command(b.bin, "-test.run=^$", "-test.bench="+pattern, "-test.benchtime="+c.benchtime,
		"-test.count=1", "-test.benchmem")
	cmd.Dir = b.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the %s benchmarks (%s) failed: %w\n%s%s", b.label, pattern, err, stdout.Bytes(), stderr.Bytes())
	}
	_, err := b.out.Write(stdout.Bytes())
	return err
}

// git runs git in dir and returns its trimmed output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// extract writes the tree of commit sha into dir (git archive, untarred).
func extract(root, sha, dir string) error {
	cmd := exec.Command("git", "archive", "--format=tar", sha)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git archive: %w", err)
	}
	untarErr := untar(pipe, dir)
	_, _ = io.Copy(io.Discard, pipe)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %.12s: %w: %s", sha, err, strings.TrimSpace(stderr.String()))
	}
	return untarErr
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read git archive: %w", err)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("git archive: path %q leaves the tree", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			err = writeFile(path, tr, h.FileInfo().Mode().Perm())
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				err = os.Symlink(h.Linkname, path)
			}
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", h.Name, err)
		}
	}
}

func writeFile(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
