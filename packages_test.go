package orgdb_test

import (
	"go/build"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPackageImports checks the import table of docs/packages.md against
// the packages' source: every project import of a listed package (its
// non-test files, on this platform) is in its row, and every package in a
// row is imported. A new import that crosses the map (the store importing
// backup, dbfile importing the store) fails here until the map says so.
func TestPackageImports(t *testing.T) {
	t.Parallel()
	const module = "github.com/agentops/orgdb"
	doc, err := os.ReadFile("docs/packages.md")
	if err != nil {
		t.Fatal(err)
	}
	_, imports, ok := strings.Cut(string(doc), "\n## Imports")
	if !ok {
		t.Fatal("docs/packages.md has no section ## Imports")
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z/]+)` \\| (.*) \\|$")
	name := regexp.MustCompile("`([a-z/]+)`")
	checked := 0
	for _, r := range row.FindAllStringSubmatch(imports, -1) {
		pkg, cell := r[1], r[2]
		var want []string
		for _, m := range name.FindAllStringSubmatch(cell, -1) {
			want = append(want, m[1])
		}
		dir := pkg
		if pkg == "orgdb" {
			dir = "."
		}
		bp, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		var got []string
		for _, imp := range bp.Imports {
			switch {
			case imp == module:
				got = append(got, "orgdb")
			case strings.HasPrefix(imp, module+"/"):
				got = append(got, strings.TrimPrefix(imp, module+"/"))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s imports %q; docs/packages.md says %q: change the import or the map (and say why there)", pkg, got, want)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("found %d rows of the import table in docs/packages.md; want the table of every package's imports", checked)
	}
}
