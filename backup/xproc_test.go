package backup_test

// Tests that need other processes on one file (a writer beside a backup, a
// restore that a late writer overtakes, a database held open while it is
// replaced) re-execute this test binary with xprocEnv set (see TestMain):
// the child runs one action and reports on its standard output.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/internal/dbtest"
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
	wait, report := dbtest.Ready, dbtest.Report
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
// them together once every one is ready, and returns what each reported
// (dbtest.Children).
func xprocRun(t *testing.T, action, path string, args []string) []string {
	t.Helper()
	specs := make([]string, len(args))
	for i, arg := range args {
		specs[i] = action + " " + path + " " + arg
	}
	return dbtest.Children(t, xprocEnv, specs)
}
