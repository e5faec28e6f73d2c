package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Temporary copies of a database (a backup being written, a backup being
// checked before a restore) are named for what they are, beside the file
// they become or replace:
//
//	<name>.partial-backup-<random>   a backup being written to <name>
//	<name>.partial-restore-<random>  a copy of --from being checked before it is restored into <name>
//	<name>.partial-previous-<random> the database <name> being kept, before a restore, as <name>.bak-<time>
//
// The process writing one holds a flock(2) on it for as long as it
// exists; a process killed mid-copy leaves the file without the lock, and
// the next backup or restore of <name> removes it (sweepStale), and
// `orgdb status` lists it (StaleCopies).
const (
	partialBackup   = ".partial-backup-"
	partialRestore  = ".partial-restore-"
	partialPrevious = ".partial-previous-"
)

// tempCopy is a temporary copy being written, locked by this process.
type tempCopy struct {
	path string
	lock *os.File // holds the flock; closed by remove or keep
	kept bool
}

// newTempCopy creates a new empty private file beside target, named
// target + kind + random, and locks it.
func newTempCopy(target, kind string) (*tempCopy, error) {
	p, err := createPrivate(filepath.Dir(target), filepath.Base(target)+kind+"*")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err == nil {
		err = tryFlock(f)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		removeDB(p)
		return nil, fmt.Errorf("lock the temporary copy %s: %w", p, err)
	}
	return &tempCopy{path: p, lock: f}, nil
}

// remove deletes the copy and whatever SQLite left beside it, then drops
// the lock, unless keep was called. Call it only once no connection of
// this process has the file open (closing the lock's descriptor drops
// this process's fcntl locks on it).
func (t *tempCopy) remove() {
	if t.kept {
		return
	}
	removeDB(t.path)
	t.lock.Close()
}

// keep drops the lock of a copy that was moved into place (it is no
// longer temporary); remove then does nothing.
func (t *tempCopy) keep() {
	t.kept = true
	t.lock.Close()
}

// StaleCopies lists the temporary copies beside the database or backup at
// path that no running process holds: left by a backup or restore that was
// killed. The next backup or restore of path removes them.
func StaleCopies(path string) []string {
	var out []string
	for _, kind := range []string{partialBackup, partialRestore, partialPrevious} {
		matches, _ := filepath.Glob(globEscape(path) + kind + "*") // the pattern is valid: escaped
		for _, m := range matches {
			if strings.HasSuffix(m, "-journal") || strings.HasSuffix(m, "-wal") || strings.HasSuffix(m, "-shm") {
				continue
			}
			if stale(m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// sweepStale removes the stale temporary copies beside path (see
// StaleCopies) and returns their names.
func sweepStale(path string) []string {
	copies := StaleCopies(path)
	for _, p := range copies {
		removeDB(p)
	}
	return copies
}

// stale reports whether the temporary copy at p is a regular file no
// process holds the lock of.
func stale(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.OpenFile(p, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return tryFlock(f) == nil
}

// globEscape escapes the metacharacters of filepath.Match in p.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
