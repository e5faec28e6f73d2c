package backup

import "golang.org/x/sys/unix"

// Open file description locks (Linux 3.15+): they conflict with SQLite's
// process-associated fcntl locks even within one process, and are released
// only when the file is closed.
const (
	fGetLk = unix.F_OFD_GETLK
	fSetLk = unix.F_OFD_SETLK
)
