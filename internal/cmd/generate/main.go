// Command generate is make generate and the drift step of make check: it
// runs every generator of orgdb into a temporary directory and only then
// touches the working tree.
//
//   - sqlc (queries/ and schema/ → gen/db), from a staging directory that
//     links every source of the module but gen/, so it writes nothing in
//     place;
//   - internal/cmd/schemadoc (schema/ → schema/schema.sql, schema/README.md,
//     schema/migrations.sum), with -out;
//   - internal/tsgen (the Go types → gen/ts/types.ts), type-checking the
//     freshly generated gen/db in place of the one on disk.
//
// Without flags, when every generator has succeeded, it writes the files
// whose content changed and removes the files under gen/ that no generator
// wrote; on any failure it writes nothing and the working tree is as it
// was. With -check it writes nothing at all: it compares the fresh output
// with the working tree (contents and the set of files) and names every
// file that differs, is missing or is an orphan.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/agentops/orgdb/internal/migratelint"
	"github.com/agentops/orgdb/internal/shipped"
	"github.com/agentops/orgdb/internal/tsgen"
)

// genDir is owned by the generators: every file under it is generated, and
// a file no generator writes is an orphan.
const genDir = "gen"

func main() {
	check := flag.Bool("check", false, "compare the generated files with the working tree and write nothing")
	config := flag.Bool("config", false, "print the sqlc configuration make generate passes to sqlc (sqlc.yaml plus the derived overrides) and exit")
	resum := flag.Bool("resum", false, "accept edits of shipped migrations that change only comments or whitespace, and record them in schema/migrations.sum (make resum)")
	goCmd := flag.String("go", "go", "the go command")
	verbose := flag.Bool("v", false, "print how long each step takes")
	var bases []string
	flag.Func("base", "a git revision whose schema/migrations.sum lists the shipped migrations (repeatable; default $"+shipped.EnvRefs+", else "+strings.Join(shipped.DefaultRefs, " or ")+")", func(s string) error {
		bases = append(bases, s)
		return nil
	})
	flag.Parse()
	g := &run{goCmd: *goCmd, verbose: *verbose, start: time.Now(), bases: bases, resum: *resum}
	tsgen.GoCommand = *goCmd
	var err error
	switch {
	case *config:
		err = g.printConfig()
	case *check:
		err = g.check()
	default:
		err = g.generate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type run struct {
	goCmd   string
	verbose bool
	start   time.Time
	root    string // the module root, absolute
	tmp     string
	bases   []string // -base: the revisions that say what has shipped
	resum   bool     // -resum: accept comment-only edits of shipped migrations

	accepted []string // shipped migrations whose comment-only edit was accepted
}

// output is the generated files, by slash path relative to the module root.
type output map[string][]byte

func (g *run) generate() error {
	out, err := g.produce()
	if err != nil {
		return fmt.Errorf("%w\ngenerate: nothing was written; the working tree is as it was", err)
	}
	if g.resum {
		if len(g.accepted) == 0 {
			fmt.Println("resum: no shipped migration was edited; nothing to record")
		} else {
			fmt.Printf("resum: %s changed only in comments or whitespace since it shipped: recorded in schema/migrations.sum. "+
				"A database that applied the old text refuses it until you run: orgdb migrate --repair-checksums\n", strings.Join(g.accepted, ", "))
		}
	}
	d, err := diff(out)
	if err != nil {
		return err
	}
	if err := apply(out, d); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if d.empty() {
		fmt.Printf("generate: all %d generated files were already current\n", len(out))
		return nil
	}
	fmt.Printf("generate: %d generated files current; %s\n", len(out), d.summary("rewritten", "created", "removed"))
	return nil
}

// apply makes the working tree match out: it writes the changed and
// missing files and removes the orphans under gen/.
func apply(out output, d changes) error {
	for _, p := range append(d.changed, d.missing...) {
		if err := writeFile(p, out[p]); err != nil {
			return err
		}
	}
	for _, p := range d.orphans {
		if err := os.Remove(filepath.FromSlash(p)); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return removeEmptyDirs(genDir)
}

func (g *run) check() error {
	out, err := g.produce()
	if err != nil {
		return fmt.Errorf("%w\ndrift: could not regenerate; nothing was written", err)
	}
	d, err := diff(out)
	if err != nil {
		return err
	}
	if d.empty() {
		fmt.Printf("drift: the %d generated files in gen/ and schema/ match what make generate writes\n", len(out))
		return nil
	}
	var b strings.Builder
	b.WriteString("drift: the working tree's generated files are not what make generate writes:\n")
	for _, p := range d.changed {
		fmt.Fprintf(&b, "  changed  %s (first difference at line %d)\n", p, firstDiffLine(p, out[p]))
	}
	for _, p := range d.missing {
		fmt.Fprintf(&b, "  missing  %s (make generate writes it; it was deleted)\n", p)
	}
	for _, p := range d.orphans {
		fmt.Fprintf(&b, "  orphan   %s (no generator writes it: added by hand, or its query file is gone)\n", p)
	}
	b.WriteString("fix: generated files are never edited by hand. If you changed schema/, queries/, sqlc.yaml or the Go types,\n" +
		"run make generate; if you edited a generated file, put the change where it comes from first.\n" +
		"make generate rewrites the files listed (see git diff afterwards); make check changed nothing.")
	return errors.New(b.String())
}

// produce runs every generator into a temporary directory and returns what
// they wrote.
func (g *run) produce() (output, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return nil, fmt.Errorf("generate: run me from the module root (make generate): %w", err)
	}
	g.root = root
	if err := asciiQueries(filepath.Join(root, "queries")); err != nil {
		return nil, err
	}
	// A shipped migration that changed is refused before anything runs:
	// make generate would otherwise re-sum it without a word.
	if g.accepted, err = shipped.Verify(context.Background(), "schema", g.bases, g.resum); err != nil {
		return nil, fmt.Errorf("%w\n(a migration is shipped once main's schema/migrations.sum lists it; one this branch added is its own to edit, renumber or delete)", err)
	}
	g.tmp, err = os.MkdirTemp("", "orgdb-generate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(g.tmp)
	stage, docs := filepath.Join(g.tmp, "stage"), filepath.Join(g.tmp, "schemadoc")
	if err := g.stage(stage); err != nil {
		return nil, err
	}
	if err := os.Mkdir(docs, 0o755); err != nil {
		return nil, err
	}
	g.trace("stage")

	// schemadoc reads only schema/; sqlc needs the overrides derived from
	// the migrated catalog first. A migration that fails is reported by
	// schemadoc alone (at the failing token), not a second time by sqlc.
	var wg sync.WaitGroup
	var sqlcErr, docErr error
	wg.Go(func() {
		defer g.trace("schemadoc")
		docErr = g.tool("schemadoc", "schemadoc: fix the migration it names (the runner applies each file in a transaction, as in production)", g.goCmd, "run", "./internal/cmd/schemadoc", "-dir", "schema", "-out", docs)
	})
	config, migrateErr := g.derivedConfig()
	g.trace("overrides")
	if migrateErr == nil {
		if sqlcErr = os.WriteFile(filepath.Join(stage, "sqlc.yaml"), config, 0o644); sqlcErr == nil {
			sqlcErr = g.tool("sqlc", "sqlc: fix the query or migration at the file:line above", append(g.sqlc(), "generate", "-f", filepath.Join(stage, "sqlc.yaml"))...)
		}
		g.trace("sqlc")
	}
	wg.Wait()
	if docErr != nil {
		return nil, docErr
	}
	if err := errors.Join(migrateErr, sqlcErr); err != nil {
		return nil, err
	}
	fresh := filepath.Join(stage, genDir)
	if err := g.types(fresh); err != nil {
		return nil, err
	}
	g.trace("tsgen")

	out := output{}
	if err := filepath.WalkDir(fresh, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(stage, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	}); err != nil {
		return nil, err
	}
	written, err := os.ReadDir(docs)
	if err != nil {
		return nil, err
	}
	for _, e := range written {
		b, err := os.ReadFile(filepath.Join(docs, e.Name()))
		if err != nil {
			return nil, err
		}
		out["schema/"+e.Name()] = b
	}
	return out, nil
}

// asciiQueries refuses a query file holding a character outside ASCII.
// sqlc v1.31.1 cuts each query's text out of its file with offsets that a
// multi-byte character (an ellipsis or a dash in a comment) shifts, so every
// query after it is garbled and sqlc reports a syntax error lines away, at
// a query that is fine. Naming the character's own line and column is the
// useful message.
func asciiQueries(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for col, r := range line {
				if r > 0x7f || r == utf8.RuneError {
					rel := filepath.Join(filepath.Base(dir), filepath.Base(f))
					return fmt.Errorf("%s:%d:%d: %q is not ASCII: sqlc garbles every query after a multi-byte character, even in a comment; write it in ASCII (\"...\" for an ellipsis, \"-\" for a dash)", rel, i+1, col+1, r)
				}
			}
		}
	}
	return nil
}

// types writes gen/ts/types.ts into fresh (the staged gen/), from the Go
// types with fresh/db standing in for gen/db.
func (g *run) types(fresh string) error {
	overlay, err := tsgen.DBOverlay(filepath.Join(fresh, "db"), filepath.Join(g.root, genDir, "db"))
	var src []byte
	if err == nil {
		src, err = tsgen.Generate(overlay)
	}
	if err == nil {
		if err = os.MkdirAll(filepath.Join(fresh, "ts"), 0o755); err == nil {
			err = os.WriteFile(filepath.Join(fresh, "ts", "types.ts"), src, 0o644)
		}
	}
	if err != nil {
		return fmt.Errorf("tsgen failed:\n%s\ntsgen: fix the Go code at the file:line above: it must compile against the regenerated gen/db "+
			"(which make generate type-checks before writing it), and every Go type served as JSON needs a TypeScript mapping", indent(g.relative(err.Error())))
	}
	return nil
}

// sqlc returns the command that runs the pinned sqlc. "go tool" checks the
// tool's build on every call (about 0.4 s); the path of the binary it runs
// is remembered in the user's cache directory, keyed by tools/go.mod,
// tools/go.sum and the Go version, and used while that binary exists.
func (g *run) sqlc() []string {
	slow := []string{g.goCmd, "tool", "-modfile=tools/go.mod", "sqlc"}
	h := sha256.New()
	for _, f := range []string{"tools/go.mod", "tools/go.sum"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return slow
		}
		h.Write(b)
	}
	fmt.Fprintf(h, "%s %s %s %s", runtime.Version(), runtime.GOOS, runtime.GOARCH, os.Getenv("GOFLAGS"))
	dir, err := os.UserCacheDir()
	if err != nil {
		return slow
	}
	memo := filepath.Join(dir, "orgdb", "sqlc-"+hex.EncodeToString(h.Sum(nil))[:24])
	if b, err := os.ReadFile(memo); err == nil {
		if bin := strings.TrimSpace(string(b)); isExecutable(bin) {
			return []string{bin}
		}
	}
	// A first run builds sqlc here: say so if it takes a while.
	building := time.AfterFunc(2*time.Second, func() {
		fmt.Println("generate: building the pinned sqlc from tools/go.mod (first run only: about 2-3 min on 2 cores)")
	})
	out, err := exec.Command(g.goCmd, "tool", "-n", "-modfile=tools/go.mod", "sqlc").Output()
	building.Stop()
	bin := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(bin) || !isExecutable(bin) {
		return slow
	}
	if os.MkdirAll(filepath.Dir(memo), 0o755) == nil {
		_ = os.WriteFile(memo, []byte(bin+"\n"), 0o644) // a cache: without it, the next run asks go tool again
	}
	return []string{bin}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// stage fills dir with a link to every top-level entry of the module but
// gen/ and hidden ones, and a copy of sqlc.yaml, so that sqlc, which
// resolves paths from its config file, reads the real sources and writes
// gen/ inside dir.
func (g *run) stage(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(g.root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == genDir || strings.HasPrefix(name, "."):
		case name == "sqlc.yaml":
			b, err := os.ReadFile(filepath.Join(g.root, name))
			if err != nil {
				return err
			}
			// Anything outside gen/ would be written through a link,
			// in place, before the other generators have run.
			for _, m := range sqlcOut.FindAllSubmatch(b, -1) {
				if out := strings.Trim(string(m[1]), `"'`); !strings.HasPrefix(filepath.Clean(out)+"/", genDir+"/") {
					return fmt.Errorf("generate: sqlc.yaml has out: %s: every generated file must be under %s/, which make generate owns", out, genDir)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return err
			}
		default:
			if err := os.Symlink(filepath.Join(g.root, name), filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sqlc.yaml")); err != nil {
		return fmt.Errorf("generate: sqlc.yaml not found in the module root: %w", err)
	}
	return nil
}

// tool runs one generator and returns its output as the error if it fails,
// with temporary paths made relative to the module root and a hint.
func (g *run) tool(name, hint string, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		// go run's own "exit status 1" says nothing the hint does not.
		msg := g.relative(strings.TrimSpace(goRunStatus.ReplaceAllString(out.String(), "")))
		if msg == "" {
			msg = err.Error()
		}
		msg = g.tokenPositions(msg)
		if strings.Contains(msg, "duplicate version") {
			hint += "; two migrations share a number: renumber the new one (make new-migration NAME=… picks the next free number)"
		}
		return fmt.Errorf("%s failed:\n%s\n%s", name, indent(msg), hint)
	}
	return nil
}

// queryPos is a position sqlc gives in a query file.
var queryPos = regexp.MustCompile(`(?m)^(\s*)(queries/[^:\s]+\.sql):(\d+):(\d+): (.*)$`)

// tokenPositions moves each position sqlc gives in a query file onto the
// token its message names (sqlc points some errors, such as a misspelt
// column in UPDATE … SET, at the start of the statement), so that every
// tool names an error at its token (migratelint.TokenInStatement).
func (g *run) tokenPositions(msg string) string {
	return queryPos.ReplaceAllStringFunc(msg, func(m string) string {
		p := queryPos.FindStringSubmatch(m)
		src, err := os.ReadFile(filepath.Join(g.root, filepath.FromSlash(p[2])))
		if err != nil {
			return m
		}
		line, _ := strconv.Atoi(p[3])
		col, _ := strconv.Atoi(p[4])
		line, col = migratelint.TokenInStatement(string(src), line, col, p[5])
		return fmt.Sprintf("%s%s:%d:%d: %s", p[1], p[2], line, col, p[5])
	})
}

// trace prints how long after the start step ended, with -v.
func (g *run) trace(step string) {
	if g.verbose {
		fmt.Fprintf(os.Stderr, "%6.2fs %s\n", time.Since(g.start).Seconds(), step)
	}
}

// sqlcOut finds the output folders in sqlc.yaml.
var sqlcOut = regexp.MustCompile(`(?m)^\s*out:\s*(\S+)`)

var goRunStatus = regexp.MustCompile(`(?m)^exit status \d+\n?`)

// relative strips the temporary and module root directories from msg, so
// that it names files as they are in the module.
func (g *run) relative(msg string) string {
	for _, p := range []string{filepath.Join(g.tmp, "stage") + "/", g.tmp + "/", g.root + "/"} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

type changes struct{ changed, missing, orphans []string }

func (d changes) empty() bool { return len(d.changed)+len(d.missing)+len(d.orphans) == 0 }

func (d changes) summary(changed, missing, orphan string) string {
	var parts []string
	for _, c := range []struct {
		paths []string
		verb  string
	}{{d.changed, changed}, {d.missing, missing}, {d.orphans, orphan}} {
		if len(c.paths) > 0 {
			parts = append(parts, c.verb+": "+strings.Join(c.paths, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// diff compares out with the working tree: files whose content differs,
// files out has and the tree lacks, and files under gen/ out lacks.
func diff(out output) (changes, error) {
	var d changes
	for _, p := range slices.Sorted(maps.Keys(out)) {
		b, err := os.ReadFile(filepath.FromSlash(p))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.missing = append(d.missing, p)
		case err != nil:
			return d, err
		case !bytes.Equal(b, out[p]):
			d.changed = append(d.changed, p)
		}
	}
	err := filepath.WalkDir(genDir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == genDir {
			return nil
		}
		if err != nil || e.IsDir() {
			return err
		}
		if _, ok := out[filepath.ToSlash(p)]; !ok {
			d.orphans = append(d.orphans, filepath.ToSlash(p))
		}
		return nil
	})
	return d, err
}

// firstDiffLine is the 1-based line where the file at p first differs from
// want.
func firstDiffLine(p string, want []byte) int {
	got, err := os.ReadFile(filepath.FromSlash(p))
	if err != nil {
		return 1
	}
	line := 1
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			return line
		}
		if got[i] == '\n' {
			line++
		}
	}
	return line
}

// writeFile replaces p with data: written beside it, then renamed over it.
func writeFile(p string, data []byte) error {
	p = filepath.FromSlash(p)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".generate-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// removeEmptyDirs removes the directories under dir left empty by removed
// orphans (dir itself stays).
func removeEmptyDirs(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Reverse(dirs) // deepest first
	for _, d := range dirs {
		if entries, err := os.ReadDir(d); err == nil && len(entries) == 0 {
			if err := os.Remove(d); err != nil {
				return err
			}
		}
	}
	return nil
}
