package readme

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Docs returns the Markdown files whose shell blocks must run and whose
// links must resolve: root/README.md and root/docs/*.md, relative to root.
func Docs(root string) ([]string, error) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			return nil, fmt.Errorf("readme: %w", err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

// A call is one readme.ShellBlock or readme.Section call found in a test
// file: which function makes it, and which file and marker or heading it
// reads.
type call struct {
	fn, kind, file, arg string
	pos                 string
}

// calls finds every readme.ShellBlock and readme.Section call in the
// _test.go files under root, with its path argument resolved against the
// calling package's directory (a test runs there). A call whose arguments
// are not string literals is a problem: the guard could not tell which
// block it runs.
func calls(root string) ([]call, []string, error) {
	var out []call
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "bin", "gen":
				return filepath.SkipDir
			}
			// This package's own tests call ShellBlock and Section on
			// files they write: they run no documentation.
			if rel, _ := filepath.Rel(root, p); filepath.ToSlash(rel) == "internal/readme" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := c.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || pkg.Name != "readme" || (sel.Sel.Name != "ShellBlock" && sel.Sel.Name != "Section") {
					return true
				}
				pos := fset.Position(c.Pos())
				rel, _ := filepath.Rel(root, pos.Filename)
				where := fmt.Sprintf("%s:%d", filepath.ToSlash(rel), pos.Line)
				var args []string
				for _, a := range c.Args {
					lit, ok := a.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						break
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						break
					}
					args = append(args, s)
				}
				if len(args) != 2 {
					problems = append(problems, fmt.Sprintf("%s: %s calls readme.%s without two string literals: the guard reads them to know which block it runs", where, fn.Name.Name, sel.Sel.Name))
					return true
				}
				file, err := filepath.Rel(root, filepath.Join(filepath.Dir(p), args[0]))
				if err != nil {
					return true
				}
				out = append(out, call{fn: fn.Name.Name, kind: sel.Sel.Name, file: filepath.ToSlash(file), arg: args[1], pos: where})
				return true
			})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("readme: %w", err)
	}
	return out, problems, nil
}

// Unrun checks that every shell block of the Markdown files docs (paths
// relative to root) is run by a test, and returns one line per problem,
// naming the file and line and what to do. The rules:
//
//   - every fence names a language: ```sh (or bash, console) for commands,
//     ```text for output and other samples that are not run;
//   - a shell block has, on the nearest non-blank line above it, a comment
//     that starts with the name of the test function that runs it
//     (<!-- TestX runs the next block … -->);
//   - that function, in some _test.go file under root, calls
//     readme.ShellBlock(FILE, MARKER) with string literals, FILE being this
//     file and MARKER text whose first occurrence is followed by this
//     block as the first shell block, or readme.Section(FILE, HEADING)
//     with this block's heading;
//   - every such call finds its block (a renamed heading or marker fails
//     here, not only when the test that reads it runs).
//
// The calls are found in the source, not by running the tests, so that the
// tests that run in CI only (a fresh clone, a built Litestream) are
// checked on every make test.
func Unrun(root string, docs []string) ([]string, error) {
	found, problems, err := calls(root)
	if err != nil {
		return nil, err
	}
	byFn := map[string][]call{}
	for _, c := range found {
		byFn[c.fn] = append(byFn[c.fn], c)
	}
	// Every call finds its block.
	for _, c := range found {
		path := filepath.Join(root, filepath.FromSlash(c.file))
		var err error
		switch c.kind {
		case "ShellBlock":
			_, err = shellBlock(path, c.arg)
		case "Section":
			_, err = Section(path, c.arg)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s reads %s %q, which is not there: %v", c.pos, c.fn, c.file, c.arg, err))
		}
	}
	for _, doc := range docs {
		path := filepath.Join(root, filepath.FromSlash(doc))
		blocks, err := Blocks(path)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			where := fmt.Sprintf("%s:%d", doc, b.Line)
			if b.Fence != "```" {
				problems = append(problems, fmt.Sprintf("%s: a %s fence: use ``` (```sh for commands a test runs, ```text for output), which the tests read", where, b.Fence))
				continue
			}
			if b.Lang == "" {
				problems = append(problems, fmt.Sprintf("%s: a ``` block without a language: ```sh for commands a test runs, ```text for output or a sample that is not run", where))
				continue
			}
			if !IsShell(b.Lang) {
				continue
			}
			fn := markerTest(b.Marker)
			if fn == "" {
				problems = append(problems, fmt.Sprintf("%s: a ```%s block no test runs: put <!-- TestX runs the next block --> on the line above it and make TestX run it (readme.ShellBlock(%q, \"<!-- TestX runs the next block\")), or fence output as ```text", where, b.Lang, relFromPackage(doc)))
				continue
			}
			cs, ok := byFn[fn]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: the marker names %s, but no _test.go function of that name calls readme.ShellBlock or readme.Section", where, fn))
				continue
			}
			if !runs(root, cs, doc, b) {
				var seen []string
				for _, c := range cs {
					seen = append(seen, fmt.Sprintf("%s(%q, %q) at %s", c.kind, c.file, c.arg, c.pos))
				}
				sort.Strings(seen)
				problems = append(problems, fmt.Sprintf("%s: the marker names %s, but it does not read this block: it calls %s", where, fn, strings.Join(seen, "; ")))
			}
		}
	}
	return problems, nil
}

// runs reports whether one of the calls selects block b of doc.
func runs(root string, cs []call, doc string, b Block) bool {
	for _, c := range cs {
		if c.file != doc {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(c.file))
		switch c.kind {
		case "ShellBlock":
			if got, err := shellBlock(path, c.arg); err == nil && got.Line == b.Line {
				return true
			}
		case "Section":
			if c.arg == b.Heading {
				return true
			}
		}
	}
	return false
}

// markerTest returns the function a marker names: its first word after
// "<!--", if that is a Go identifier starting with Test.
func markerTest(marker string) string {
	rest, ok := strings.CutPrefix(marker, "<!--")
	if !ok {
		return ""
	}
	f := strings.Fields(rest)
	if len(f) == 0 || !strings.HasPrefix(f[0], "Test") {
		return ""
	}
	return strings.TrimRight(f[0], ":,.")
}

// relFromPackage is the path a test two directories down writes for doc.
func relFromPackage(doc string) string { return "../../" + doc }

// exists reports whether path names an existing file or directory.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
