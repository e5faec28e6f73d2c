package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// Ctrl-C (SIGINT) during a backup stops it and removes its temporary copy:
// a real `orgdb backup` process of a database large enough to take a
// while is interrupted as soon as its temporary file appears (inotify
// says when), and leaves nothing in the backup directory.
func TestBackupInterruptedLeavesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: writes a 192 MiB database")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "org.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Bulk in a table of the test's own: a copy of 192 MiB takes far
	// longer than the signal takes to arrive.
	d := dbtest.Raw(t, path)
	if _, err := d.Exec(`CREATE TABLE pad (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 192)
		INSERT INTO pad SELECT randomblob(1 << 20) FROM n`); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	// Non-blocking, so that a read waits in Go's poller and a deadline
	// ends it if the child exits without creating the file.
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	in := os.NewFile(uintptr(fd), "inotify")
	defer in.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--db", path, "backup", "--to", filepath.Join(dir, "b.db"))
	cmd.Env = append(os.Environ(), cliMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		in.SetReadDeadline(time.Now()) //nolint:errcheck // the poller supports deadlines on inotify fds
	}()
	created, err := waitCreate(in, "b.db.partial-backup-")
	if err != nil {
		t.Fatalf("waiting for the backup's temporary file: %v (the child exited first?)\nstderr: %s", err, stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("interrupted backup: %v, want exit 1 (a refusal, after cleaning up)\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("stderr %q does not say the backup was cancelled", stderr.String())
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("the interrupted backup left %v in %s (it had created %s)", left, dir, created)
	}
}

// waitCreate reads inotify events from in until a file whose name starts
// with prefix is created, and returns its name.
func waitCreate(in *os.File, prefix string) (string, error) {
	buf := make([]byte, 64*(syscall.SizeofInotifyEvent+syscall.NAME_MAX+1))
	for {
		n, err := in.Read(buf)
		if err != nil {
			return "", err
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			if strings.HasPrefix(name, prefix) {
				return name, nil
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}
