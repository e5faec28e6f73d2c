// Package privfile creates orgdb's files private to their owner, whatever
// the process umask, and finds the ones that are not.
//
// The database holds every member's email and the sealed org API keys, so
// its directory is created 0700 and its files 0600. SQLite creates the
// -wal, -shm and -journal files with the mode of the main database file,
// so creating the main file 0600 before SQLite opens it ([EnsureFile])
// covers them. Backups and restores write their copies with [Create] or
// [CreateTemp] (for VACUUM INTO, create the empty target with [Create]
// first: SQLite writes into an existing empty file and keeps its mode).
package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// The modes orgdb gives what it creates.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// MkdirAll creates dir and any missing parents with mode 0700 (set with
// chmod, so the umask cannot widen or narrow it). Directories that already
// exist are left as they are: [Check] reports them.
func MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("create directory %s: %w", dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, DirMode); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // created meanwhile by another process: not ours to chmod
			}
			return fmt.Errorf("create directory %s: %w", d, err)
		}
		if err := os.Chmod(d, DirMode); err != nil {
			return fmt.Errorf("create directory %s: %w", d, err)
		}
	}
	return nil
}

// EnsureFile creates an empty file at path with mode 0600 if nothing is
// there, and does nothing if a file is. Called on a database path before
// SQLite opens it, it makes the database, its -wal, -shm and -journal
// files private: SQLite treats an empty file as a new database and gives
// its side files the main file's mode.
func EnsureFile(path string) error {
	f, err := Create(path)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// Create creates a new file at path with mode 0600 for writing; it fails
// (wrapping fs.ErrExist) if something is already there, so it never
// follows a planted symlink or takes over another file.
func Create(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Chmod(FileMode); err != nil {
		return nil, errors.Join(fmt.Errorf("create %s: %w", path, err), f.Close(), os.Remove(path))
	}
	return f, nil
}

// CreateTemp is [os.CreateTemp] with the mode set to 0600 whatever the
// umask: for temporary copies of a database (a backup being written, a
// restore before its rename).
func CreateTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(FileMode); err != nil {
		return nil, errors.Join(fmt.Errorf("create temporary file: %w", err), f.Close(), os.Remove(f.Name()))
	}
	return f, nil
}

// Finding is a database file or its directory that group or others can
// read, write or enter.
type Finding struct {
	Path string
	Mode fs.FileMode // permission bits
	Dir  bool
}

// Check returns what of the database at path (its directory, the file and
// its -wal, -shm and -journal files, those that exist) group or others can
// access. It reports nothing on Windows, where modes do not apply, and
// skips what it cannot stat.
func Check(path string) []Finding {
	if runtime.GOOS == "windows" {
		return nil
	}
	var out []Finding
	if fi, err := os.Stat(filepath.Dir(path)); err == nil && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Finding{Path: filepath.Dir(path), Mode: fi.Mode().Perm(), Dir: true})
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, Finding{Path: p, Mode: fi.Mode().Perm()})
		}
	}
	return out
}

// Fix returns the shell command that makes the findings private, e.g.
// "chmod 700 data && chmod 600 data/orgdb.db data/orgdb.db-wal".
func Fix(fs []Finding) string {
	var dirs, files []string
	for _, f := range fs {
		if f.Dir {
			dirs = append(dirs, shellQuote(f.Path))
		} else {
			files = append(files, shellQuote(f.Path))
		}
	}
	var cmds []string
	if len(dirs) > 0 {
		cmds = append(cmds, "chmod 700 "+strings.Join(dirs, " "))
	}
	if len(files) > 0 {
		cmds = append(cmds, "chmod 600 "+strings.Join(files, " "))
	}
	return strings.Join(cmds, " && ")
}

// Describe says in one line what the findings expose and the command that
// fixes them, e.g. "data/orgdb.db (0644) can be read or written by group or
// others: run chmod 600 data/orgdb.db". It is "" for no findings.
func Describe(fs []Finding) string {
	if len(fs) == 0 {
		return ""
	}
	var what []string
	for _, f := range fs {
		what = append(what, fmt.Sprintf("%s (%04o)", f.Path, f.Mode))
	}
	return fmt.Sprintf("%s can be read or written by group or others, and the database holds members' emails and the sealed org API keys: run %s",
		strings.Join(what, ", "), Fix(fs))
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and ./_-+=:,@ (a path with spaces, quotes, $).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./_-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
