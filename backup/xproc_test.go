package backup_test

// Tests that need other processes on one file (a writer beside a backup, a
// restore that a late writer overtakes, a database held open while it is
// replaced) re-execute this test binary with xprocEnv set (see TestMain):
// the child runs one action and reports on its standard output.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/store"
)

// xprocEnv, when set, makes the test binary a child: it runs one action
// on the database and exits.
const xprocEnv = "ORGDB_BACKUP_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(xprocEnv); spec != "" {
		os.Exit(xprocChild(spec))
	}
	os.Exit(m.Run())
}

// xprocChild runs one child: spec is "action path arg". It prints "ready"
// once its store is open, waits for a line on stdin, acts, and prints
// "ok", "refused CODE" (a typed refusal, exit 0) or "error MESSAGE"
// (anything else, exit 1).
func xprocChild(spec string) int {
	action, rest, _ := strings.Cut(spec, " ")
	path, arg, _ := strings.Cut(rest, " ")
	ctx := context.Background()
	stdin := bufio.NewReader(os.Stdin)
	wait := func() {
		fmt.Println("ready")
		stdin.ReadString('\n') //nolint:errcheck // EOF releases the child too
	}
	report := func(err error) int {
		var e *orgdb.Error
		switch {
		case err == nil:
			fmt.Println("ok")
			return 0
		case errors.As(err, &e) && e.Code != orgdb.CodeInternal:
			fmt.Println("refused", e.Code)
			return 0
		default:
			fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
			return 1
		}
	}
	switch action {
	case "writeloop":
		return writeLoop(ctx, path, wait, report)
	case "late":
		return lateInvite(ctx, path, arg)
	case "walwriter":
		return walWriter(ctx, path, arg)
	case "restore": // no store of its own: restore arg into path
		_, err := backup.Restore(ctx, path, arg)
		return report(err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer st.Close()
	wait()
	switch action {
	case "hold": // keep the store open until released
	case "backup": // arg is "UMASK TARGET"
		err = backupWithUmask(ctx, st, arg)
	default:
		err = fmt.Errorf("unknown action %q", action)
	}
	return report(err)
}

// xprocRun starts one child per arg, all running action on path, releases
// them together once every one is ready, and returns what each reported.
// A child that fails to report fails the test.
func xprocRun(t *testing.T, action, path string, args []string) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type child struct {
		cmd    *osexec.Cmd
		in     io.WriteCloser
		out    *bufio.Scanner
		stderr strings.Builder
	}
	children := make([]*child, len(args))
	for i, arg := range args {
		c := &child{cmd: osexec.Command(exe, "-test.run=^$")}
		c.cmd.Env = append(os.Environ(), xprocEnv+"="+action+" "+path+" "+arg)
		c.cmd.Stderr = &c.stderr
		if c.in, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		c.out = bufio.NewScanner(stdout)
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	line := func(c *child) string {
		if !c.out.Scan() {
			t.Fatalf("child %v ended without a report (stderr: %s)", c.cmd.Env[len(c.cmd.Env)-1], c.stderr.String())
		}
		return c.out.Text()
	}
	for _, c := range children {
		if got := line(c); got != "ready" {
			t.Fatalf("child did not get ready: %q (stderr: %s)", got, c.stderr.String())
		}
	}
	// Release all at once: each child is blocked on its stdin.
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.in.Close()
		}()
	}
	wg.Wait()
	out := make([]string, len(children))
	for i, c := range children {
		out[i] = line(c)
		if err := c.cmd.Wait(); err != nil && !strings.HasPrefix(out[i], "error") {
			t.Fatalf("child exited with %v after reporting %q", err, out[i])
		}
	}
	return out
}
