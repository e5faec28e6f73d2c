// Command newmigration creates the next migration file: make new-migration
// NAME=add_user_timezone writes schema/NNNN_add_user_timezone.sql, where
// NNNN is one more than the highest version in schema/, with a short header
// to fill in (what the migration does, and why). It never overwrites a
// file and refuses a name the runner would refuse.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/agentops/orgdb/schema"
)

// validName is the name part the runner accepts in NNNN_name.sql.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// numbered is a name that already carries a version.
var numbered = regexp.MustCompile(`^\d+_`)

func main() {
	dir := flag.String("dir", "schema", "the migrations folder")
	flag.Parse()
	path, err := create(*dir, strings.Join(flag.Args(), " "))
	if err != nil {
		fmt.Fprintln(os.Stderr, "new-migration:", err)
		os.Exit(1)
	}
	fmt.Printf("new-migration: created %s: fill in its header, write the SQL, then run make generate\n", path)
}

// create writes the next migration named name into dir and returns its path.
func create(dir, name string) (string, error) {
	const usage = "use lower-case letters, digits and underscores, saying what the migration does, e.g. make new-migration NAME=add_user_timezone"
	switch {
	case name == "":
		return "", errors.New("NAME is missing: " + usage)
	case strings.HasSuffix(name, ".sql"):
		return "", fmt.Errorf("NAME %q: give the name without .sql (the number and .sql are added): %s", name, usage)
	case numbered.MatchString(name):
		return "", fmt.Errorf("NAME %q: give the name without a number (the next free number is added): %s", name, usage)
	case !validName.MatchString(name):
		return "", fmt.Errorf("NAME %q is not a valid migration name: %s", name, usage)
	}
	ms, err := schema.Load(os.DirFS(dir))
	if err != nil {
		return "", fmt.Errorf("%s: %w: fix the folder first", dir, err)
	}
	next, width := 1, 4
	for _, m := range ms {
		next = max(next, m.Version+1)
		width = max(width, len(m.File)-len(m.Name)-len("_.sql"))
	}
	path := filepath.Join(dir, fmt.Sprintf("%0*d_%s.sql", width, next, name))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s already exists", path)
	}
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintf(f, header, sentence(name))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// header is the new file's content. Its first sentence is the migration's
// description in schema/README.md.
const header = `-- %s
-- Why: say why the schema needs this change (replace this line).
--
-- Plain SQLite. The runner applies this file and its record in one
-- transaction. Once it has shipped, never edit it: write a new migration.

`

// sentence turns add_user_timezone into "Add user timezone."
func sentence(name string) string {
	s := strings.TrimSpace(strings.ReplaceAll(name, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
