//go:build unix

package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// SQLite's unix VFS locks byte ranges with fcntl (see os_unix.c): on the
// database file the PENDING byte at 1 GiB, the RESERVED byte after it and
// a 510-byte SHARED range after that; on the -shm file of a WAL database
// the "dead man switch" byte at offset 128, on which every connection that
// has the database open in WAL mode holds a read lock for as long as it is
// open. A process that has read the database therefore always holds one
// of them: the SHARED range in rollback mode (while it reads), the DMS
// byte in WAL mode (while it is open).
const (
	pendingByte = 0x40000000
	lockBytes   = 2 + 510 // PENDING, RESERVED, SHARED
	shmDMS      = 120 + 8 // (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK
)

// lockOut takes write locks on SQLite's lock bytes of the database at path
// and of its -shm file, so that no other process can open it while they
// are held (a new connection waits on them, then fails with "database is
// locked"), and returns the function that releases them. When another
// process holds any of them (it has the database open) it fails with
// [errInUse], naming that process when the system says which.
//
// The locks are open-file-description locks where the system has them
// (Linux), which conflict with SQLite's fcntl locks in any process,
// this one included. Closing a file drops every fcntl lock this process
// holds on it, so a process must not call lockOut on a database it has
// open.
func lockOut(path string) (release func(), err error) {
	var files []*os.File
	var locked []lockRange
	release = func() {
		// Unlocked explicitly: LiteFS's FUSE layer keeps a lock when the
		// file is closed, which left the database locked for good.
		for _, l := range locked {
			lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: 0, Start: l.start, Len: l.len}
			_ = syscall.FcntlFlock(l.f.Fd(), fSetLk, &lk) // best effort: closing drops it elsewhere
		}
		for _, f := range files {
			f.Close()
		}
	}
	for _, l := range []struct {
		file       string
		start, len int64
	}{{path, pendingByte, lockBytes}, {path + "-shm", shmDMS, 1}} {
		f, err := os.OpenFile(l.file, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("open %s to lock it: %w", l.file, err)
		}
		files = append(files, f)
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: l.start, Len: l.len}
		err = syscall.FcntlFlock(f.Fd(), fSetLk, &lk)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			pid := holder(f, l.start, l.len)
			release()
			return nil, &inUseError{path: path, pid: pid}
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("lock %s: %w", l.file, err)
		}
		locked = append(locked, lockRange{f, l.start, l.len})
	}
	return release, nil
}

// lockRange is a range lockOut locked.
type lockRange struct {
	f          *os.File
	start, len int64
}

// holder returns the process holding a lock conflicting with a write lock
// on the range, or 0 when the system does not say.
func holder(f *os.File, start, n int64) int {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: start, Len: n}
	if err := syscall.FcntlFlock(f.Fd(), fGetLk, &lk); err != nil || lk.Type == syscall.F_UNLCK || lk.Pid <= 0 {
		return 0
	}
	return int(lk.Pid)
}

// errInUse is wrapped by the error of a database another process has open.
var errInUse = errors.New("the database is open in another process")

type inUseError struct {
	path string
	pid  int
}

func (e *inUseError) Error() string {
	who := "another process"
	if e.pid > 0 {
		who = fmt.Sprintf("process %d", e.pid)
	}
	return fmt.Sprintf("%s has %s open", who, e.path)
}

func (e *inUseError) Unwrap() error { return errInUse }

// sameOwner gives the file at path the owner and group of prev when they
// differ and this process may change them (root): a restore run as root
// leaves the database its service's user's.
func sameOwner(path string, prev fs.FileInfo) error {
	st, ok := prev.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if cur, ok := fi.Sys().(*syscall.Stat_t); ok && cur.Uid == st.Uid && cur.Gid == st.Gid {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}

// tryFlock takes an exclusive flock(2) on f without waiting: the lock of
// a temporary copy (tempfiles.go). flock locks are independent of
// SQLite's fcntl locks.
func tryFlock(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// oNonblock opens a file without blocking (a FIFO would block open(2)).
const oNonblock = syscall.O_NONBLOCK
