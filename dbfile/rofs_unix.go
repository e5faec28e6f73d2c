//go:build unix

package dbfile

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readOnlyFS reports whether dir is on a read-only file system (a
// read-only mount): access(2) for writing fails with EROFS there, whoever
// asks.
func readOnlyFS(dir string) bool {
	return errors.Is(unix.Access(dir, unix.W_OK), unix.EROFS)
}
