//go:build unix && !linux

package backup

import "syscall"

// Process-associated fcntl locks: they conflict with other processes'
// locks, not with this process's own.
const (
	fGetLk = syscall.F_GETLK
	fSetLk = syscall.F_SETLK
)
