package schema

import (
	"io/fs"
	"path"
)

// UpTo returns a view of fsys that holds only the migrations numbered up
// to version (and no snapshot), so that [Migrate] brings a database to
// that version through the production code path. Tests build a database
// at an older version with it; the migration lint replays migrations one
// at a time.
func UpTo(fsys fs.FS, version int) fs.FS { return upTo{fsys, version} }

type upTo struct {
	fs.FS
	version int
}

// Glob lists the matching files of the underlying FS, less the
// migrations above the version.
func (u upTo) Glob(pattern string) ([]string, error) {
	names, err := fs.Glob(u.FS, pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if u.keep(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Open opens a file of the view; a migration above the version does not
// exist in it.
func (u upTo) Open(name string) (fs.File, error) {
	if !u.keep(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return u.FS.Open(name)
}

func (u upTo) keep(name string) bool {
	base := path.Base(name)
	if base == SnapshotFile {
		return false
	}
	m := fileName.FindStringSubmatch(base)
	if m == nil {
		return true // not a migration: Load reports it
	}
	v := 0
	for _, d := range m[1] {
		v = v*10 + int(d-'0')
	}
	return v <= u.version
}
