package schema_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/agentops/orgdb/schema"
)

// migrationName is the documented file-name rule of schema.Load: four or
// more digits, an underscore, a lower-case name, ".sql".
var migrationName = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9][a-z0-9_]*)\.sql$`)

// FuzzLoad runs schema.Load on a folder holding 0001_base.sql and two files
// with fuzzed names. Load accepts the folder exactly when every *.sql entry
// at its root other than schema.sql is a file named by the rule, with
// versions that fit an int and differ; then it returns them in version
// order with their name, content and checksum. Otherwise its error names
// an offending entry.
func FuzzLoad(f *testing.F) {
	for _, c := range [][2]string{
		{"0002_users.sql", "0003_more.sql"}, {"0002_a.sql", "0002_b.sql"}, {"0002_a.sql", "00002_b.sql"},
		{"schema.sql", "README.md"}, {"add_users.sql", "x"}, {"1_users.sql", "0002_x.sql"}, {"0002-users.sql", "0002_Users.sql"},
		{"0002_add users.sql", "0002_é.sql"}, {"0002_x.sql/y.sql", "sub/0002_x.sql"}, {"99999999999999999999_x.sql", "0002_x.SQL"},
		{"0001_base.sql", "0002_x.sql"}, {"0002__.sql", "0002_a_.sql"}, {"０００２_x.sql", "0002_x.sql.sql"},
	} {
		f.Add(c[0], c[1], []byte("CREATE TABLE t (id INTEGER);"))
	}
	f.Fuzz(func(t *testing.T, a, b string, data []byte) {
		fsys := fstest.MapFS{"0001_base.sql": {Data: []byte("CREATE TABLE base (id INTEGER);")}}
		for _, n := range []string{a, b} {
			if !fs.ValidPath(n) || n == "." {
				return // not a name a directory can hold
			}
			for p := n; p != "."; p = path.Dir(p) {
				if p != n && fsys[p] != nil {
					return // a file and a directory of the same name
				}
			}
			if fsys[n] != nil && n != "0001_base.sql" {
				return
			}
			fsys[n] = &fstest.MapFile{Data: data}
		}
		for n := range fsys {
			if d := path.Dir(n); d != "." && fsys[d] != nil {
				return // a file that is also another file's directory
			}
		}

		// The expectation, from the root entries.
		root := map[string]bool{} // name → is a directory
		for n := range fsys {
			first, rest, _ := strings.Cut(n, "/")
			root[first] = root[first] || rest != ""
		}
		wantOK, versions := true, map[int]bool{}
		var offending []string
		for n, dir := range root {
			if !strings.HasSuffix(n, ".sql") || n == schema.SnapshotFile {
				continue
			}
			m := migrationName.FindStringSubmatch(n)
			var v int
			var err error
			if m != nil {
				v, err = strconv.Atoi(m[1])
			}
			if dir || m == nil || err != nil || versions[v] {
				wantOK = false
				offending = append(offending, n)
				continue
			}
			versions[v] = true
		}

		ms, err := schema.Load(fsys)
		if err != nil {
			if wantOK {
				t.Fatalf("Load(%q) refused a valid folder: %v", keys(fsys), err)
			}
			if len(ms) != 0 {
				t.Fatalf("Load(%q) returned %d migrations with error %v", keys(fsys), len(ms), err)
			}
			named := false
			for n := range root {
				named = named || strings.Contains(err.Error(), n) && n != "0001_base.sql"
			}
			if !named {
				t.Fatalf("Load(%q): error %q names none of the entries (offending: %q)", keys(fsys), err, offending)
			}
			return
		}
		if !wantOK {
			t.Fatalf("Load(%q) accepted %d migrations, want an error naming %q", keys(fsys), len(ms), offending)
		}
		if len(ms) != len(versions) {
			t.Fatalf("Load(%q) returned %d migrations, want %d", keys(fsys), len(ms), len(versions))
		}
		for i, m := range ms {
			file := fsys[m.File]
			want := migrationName.FindStringSubmatch(m.File)
			if file == nil || want == nil || strconv.Itoa(m.Version) != strings.TrimLeft(want[1], "0") && m.Version != 0 || m.Name != want[2] {
				t.Fatalf("Load(%q): migration %+v does not match its file", keys(fsys), m)
			}
			sum := sha256.Sum256(file.Data)
			if m.SQL != string(file.Data) || m.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("Load(%q): %s: content or checksum differs from the file", keys(fsys), m.File)
			}
			if i > 0 && ms[i-1].Version >= m.Version {
				t.Fatalf("Load(%q): versions out of order: %d then %d", keys(fsys), ms[i-1].Version, m.Version)
			}
		}
	})
}

func keys(fsys fstest.MapFS) []string {
	var ks []string
	for k := range fsys {
		ks = append(ks, k)
	}
	return ks
}
