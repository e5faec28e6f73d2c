package dbfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentops/orgdb"
)

// CheckPath refuses (VALIDATION_ERROR) a path that is not the path of a
// file: empty, ":memory:" (every pooled connection would get its own empty
// database) or a "file:" URI (its settings would fight orgdb's DSN). what
// says whose path it is ("open orgdb", "backup", "restore: the backup").
// The public message names no path; the internal one does.
func CheckPath(path, what string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return orgdb.Validation("%s: want the path of a database file", what).
			WithInternalMessage("%s: path %q: want the path of a database file", what, path)
	}
	return nil
}

// ReasonNotRegularFile is the reason of the refusal of a path that is a
// FIFO, a device, a socket or a directory.
const ReasonNotRegularFile = "not_regular_file"

// Regular checks that the file at p, if any, is a regular file (symbolic
// links followed): a FIFO, a device, a socket or a directory is refused
// with VALIDATION_ERROR, reason not_regular_file, before anything opens
// it (opening a FIFO blocks; replacing a device node loses it). what
// names the flag ("the backup (--from)"). A missing file returns
// (nil, nil).
func Regular(p, what string) (fs.FileInfo, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, p, err)
	}
	if fi.Mode().IsRegular() {
		return fi, nil
	}
	kind := "not a regular file"
	switch {
	case fi.IsDir():
		kind = "a directory"
	case fi.Mode()&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case fi.Mode()&fs.ModeSocket != 0:
		kind = "a socket"
	case fi.Mode()&fs.ModeDevice != 0:
		kind = "a device"
	}
	hint := ""
	if fi.IsDir() {
		hint = fmt.Sprintf(", e.g. %s", filepath.Join(p, "orgdb.db"))
	}
	return nil, orgdb.Validation("%s %s is %s: orgdb reads and writes only regular files; give the path of a database file%s; nothing was changed", what, p, kind, hint).
		WithReason(ReasonNotRegularFile)
}
