//go:build !unix

package backup

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// lockOut cannot tell here whether another process has the database open,
// so a restore is refused rather than risked.
func lockOut(path string) (func(), error) {
	return nil, errors.New("restore: checking that no other process has " + path + " open is not implemented on " + runtime.GOOS)
}

var errInUse = errors.New("the database is open in another process")

// sameOwner does nothing here: file ownership is unix's.
func sameOwner(string, fs.FileInfo) error { return nil }

// tryFlock does nothing here: a temporary copy counts as stale once its
// writer has closed it (removing an open file fails on Windows).
func tryFlock(*os.File) error { return nil }

// oNonblock is 0 here: there are no FIFOs to open.
const oNonblock = 0
