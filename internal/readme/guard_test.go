package readme_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// write creates files (path → text) under a new root.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, text := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const runner = `package p

import "testing"

func TestRunsSession(t *testing.T) {
	_, _ = readme.ShellBlock("../../docs/x.md", "<!-- TestRunsSession runs the next block")
}

func TestRunsLoop(t *testing.T) {
	_, _ = readme.Section("../../README.md", "The loop")
}
`

// Unrun accepts a tree where every shell block is read by the test its
// marker names, and names each block that is not, with the rule it breaks.
func TestUnrun(t *testing.T) {
	good := map[string]string{
		"README.md":       "# T\n\n## The loop\n\n<!-- TestRunsLoop runs this section's blocks -->\n```sh\nmake a\n```\n\n```go\nx := 1\n```\n\n```text\noutput\n```\n",
		"docs/x.md":       "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n",
		"pkg/p/p_test.go": runner,
	}
	root := write(t, good)
	docs, err := readme.Docs(root)
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := readme.Unrun(root, docs); err != nil || len(problems) != 0 {
		t.Fatalf("a tree where every block runs: %v\n%s", err, strings.Join(problems, "\n"))
	}

	for _, c := range []struct {
		name, file, text string
		want             string
	}{
		{"a block without a marker", "docs/x.md", "# X\n\n```sh\norgdb x\n```\n", "docs/x.md:3: a ```sh block no test runs"},
		{"a bash block without a marker", "docs/x.md", "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n\n```bash\nrm -rf x\n```\n", "docs/x.md:8: a ```bash block no test runs"},
		{"a block without a language", "docs/x.md", "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n\n```\n$ orgdb y\n```\n", "docs/x.md:8: a ``` block without a language"},
		{"a shell block with a title", "docs/x.md", "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n\n```Bash title=\"x\"\nrm -rf x\n```\n", "docs/x.md:8: a ```bash block no test runs"},
		{"a tilde fence", "docs/x.md", "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n\n~~~sh\nrm -rf x\n~~~\n", "docs/x.md:8: a ~~~ fence"},
		{"a marker naming no test", "docs/x.md", "# X\n\n<!-- TestNobody runs the next block -->\n```sh\norgdb x\n```\n", "the marker names TestNobody, but no _test.go function"},
		{"a marker naming a test that reads another block", "docs/x.md", "# X\n\n<!-- TestRunsSession runs the next block -->\n```sh\norgdb x\n```\n\n<!-- TestRunsSession runs this one too -->\n```sh\norgdb y\n```\n", "docs/x.md:9: the marker names TestRunsSession, but it does not read this block"},
		{"a renamed section", "README.md", "# T\n\n## The new loop\n\n<!-- TestRunsLoop runs this section's blocks -->\n```sh\nmake a\n```\n", `TestRunsLoop reads README.md "The loop", which is not there`},
		{"a marker gone", "docs/x.md", "# X\n\n```text\norgdb x\n```\n", `TestRunsSession reads docs/x.md "<!-- TestRunsSession runs the next block", which is not there`},
		{"a call the guard cannot read", "pkg/p/q_test.go", "package p\n\nfunc TestQ(t *testing.T) {\n\tf := \"../../README.md\"\n\t_, _ = readme.ShellBlock(f, \"m\")\n}\n", "TestQ calls readme.ShellBlock without two string literals"},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			files[c.file] = c.text
			root := write(t, files)
			docs, err := readme.Docs(root)
			if err != nil {
				t.Fatal(err)
			}
			problems, err := readme.Unrun(root, docs)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("want a problem with %q, got:\n%s", c.want, strings.Join(problems, "\n"))
			}
		})
	}
}

// BrokenLinks names links to missing files, to missing anchors and out of
// the repository, and accepts pending files while they are missing.
func TestBrokenLinks(t *testing.T) {
	root := write(t, map[string]string{
		"README.md": "# T\n\n## The HTTP API (`orgdb serve`)\n\n[ok](docs/x.md#the-x-part) [self](#the-http-api-orgdb-serve) [web](https://example.com/a) " +
			"[gone](docs/gone.md) [anchor](docs/x.md#nope) [out](../shared/seed/x.md) [soon](docs/packages.md) `[code](nothere.md)`\n\n```text\n[in a block](nothere.md)\n```\n",
		"docs/x.md": "# X\n\n## The x part\n\n[up](../README.md#t) [dir](../docs/)\n",
	})
	docs, err := readme.Docs(root)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := readme.BrokenLinks(root, docs, map[string]string{"docs/packages.md": "another branch"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		"README.md:5: (docs/gone.md) names a file that does not exist",
		"README.md:5: (docs/x.md#nope): docs/x.md has no heading with the anchor #nope",
		"README.md:5: (../shared/seed/x.md) points outside the repository",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	if len(problems) != 3 {
		t.Errorf("want 3 problems, got %d:\n%s", len(problems), got)
	}
}

// Blocks gives each block its language, code, heading, marker and the
// paragraph above it (which the walkthrough reads to know where the code
// goes).
func TestBlocks(t *testing.T) {
	root := write(t, map[string]string{"README.md": "# T\n\n## Loop\n\nAdd the query to `queries/users.sql`:\n\n```sql\nSELECT 1;\n```\n\nThen:\n\n<!-- TestX runs this -->\n```sh\nmake generate\n```\n\n- a list item:\n\n  ```sh\n  indented\n  ```\n"})
	blocks, err := readme.Blocks(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("want 3 blocks, got %+v", blocks)
	}
	b := blocks[0]
	if b.Lang != "sql" || b.Code != "SELECT 1;\n" || b.Heading != "Loop" || b.Before != "Add the query to `queries/users.sql`:" || b.Marker != "" || b.Line != 7 {
		t.Errorf("the sql block: %+v", b)
	}
	b = blocks[1]
	if b.Lang != "sh" || b.Before != "Then:" || b.Marker != "<!-- TestX runs this -->" {
		t.Errorf("the sh block: %+v", b)
	}
	if blocks[2].Code != "indented\n" {
		t.Errorf("an indented block keeps its fence's indentation: %q", blocks[2].Code)
	}
	if _, err := readme.Section(filepath.Join(root, "README.md"), "Nope"); err == nil || !strings.Contains(err.Error(), `no section "Nope"`) {
		t.Errorf("a missing section: %v", err)
	}
}
