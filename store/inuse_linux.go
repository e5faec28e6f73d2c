package store

// Open file description locks (Linux 3.15+; the values are the same on
// every architecture): they conflict with SQLite's process-associated
// fcntl locks even within one process, and are released only when the
// file is closed.
const (
	fGetLk = 36 // F_OFD_GETLK
	fSetLk = 37 // F_OFD_SETLK
)
