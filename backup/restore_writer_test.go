package backup_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
	"github.com/mattn/go-sqlite3"
)

// lateInvite is the "late" action of a child process: it says "ready",
// then opens the store at path and, as the operator, makes the user id
// an admin, and
// prints "ok", "refused CODE REASON" or "error MESSAGE".
func lateInvite(ctx context.Context, path, id string) int {
	fmt.Println("ready")
	st, err := store.Open(ctx, path)
	if err == nil {
		err = st.Tx(ctx, operator, store.OperatorOnly, func(q *db.Queries) error {
			n, err := q.UpdateUserRole(ctx, db.UpdateUserRoleParams{Role: orgdb.RoleAdmin, Now: st.Now(), ID: id})
			if err == nil && n != 1 {
				err = fmt.Errorf("no user %s to make an admin", id)
			}
			return err
		})
		err = errors.Join(err, st.Close())
	}
	var oe *orgdb.Error
	switch {
	case err == nil:
		fmt.Println("ok")
	case errors.As(err, &oe) && oe.Code != orgdb.CodeInternal:
		fmt.Println("refused", oe.Code, oe.Reason)
	default:
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

// lateWriter starts a process that opens the database at path and makes
// the user id an admin (lateInvite). started returns once it is about to open
// the store; result waits for what it reported.
func lateWriter(t *testing.T, path, id string) (started func(), result func() string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), xprocEnv+"=late "+path+" "+id)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(stdout)
	started = func() {
		if !out.Scan() || out.Text() != "ready" {
			t.Errorf("late writer: %q (stderr: %s)", out.Text(), stderr.String())
		}
	}
	result = func() string {
		var last string
		for out.Scan() {
			last = out.Text()
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("late writer: %v: %s (stderr: %s)", err, last, stderr.String())
		}
		return last
	}
	return started, result
}

// promoted reports whether the user id of the database at path is an
// admin.
func promoted(t *testing.T, path, id string) bool {
	t.Helper()
	var n int
	if err := dbtest.ReadOnly(t, path).QueryRow(`SELECT COUNT(*) FROM users WHERE id = ? AND role = 'admin'`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// A process that starts writing while a restore copies into the database
// never writes through the old file: if the restore holds the database
// past its busy timeout it is refused (UNAVAILABLE database_locked) and
// its write is nowhere; if the restore ends first, its write lands in the
// restored database. Either way the restored file is sound and holds the
// whole backup, and the file keeps its inode.
func TestRestoreOvertakenByALateWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		outlast bool // the restore holds its lock until the writer gave up
	}{{"waits", false}, {"refused", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			from := backupOf(t, 200)
			path := dbtest.Closed(t, 3)
			ino := inode(t, path)
			const id = "u0000042" // a member in the backup (addPair)
			var result func() string
			hook := backup.WithRestoreHook(func(stage string) {
				if stage != "locked" {
					return
				}
				var started func()
				started, result = lateWriter(t, path, id)
				started()
				if c.outlast {
					got := result()
					result = func() string { return got }
				}
			})
			if _, err := backup.Restore(ctx, path, from, hook); err != nil {
				t.Fatal(err)
			}
			got := result()
			integrityOK(t, path)
			if u, i := dbtest.Pairs(t, path); u != 200 || i != 200 {
				t.Fatalf("restored database holds %d users and %d invites, want the backup's 200", u, i)
			}
			switch want := "refused " + string(orgdb.CodeUnavailable) + " " + store.ReasonDatabaseLocked; {
			case c.outlast && got != want:
				t.Fatalf("a writer that waited out the restore's lock reported %q, want %q", got, want)
			case c.outlast && promoted(t, path, id):
				t.Fatal("the refused write is in the restored database")
			case !c.outlast && got != "ok":
				t.Fatalf("a writer that started during the restore reported %q, want ok (it waits for the lock)", got)
			case !c.outlast && !promoted(t, path, id):
				t.Fatal("the late write, acknowledged, is not in the restored database")
			}
			if inode(t, path) != ino {
				t.Fatal("the restore replaced the database file instead of copying into it")
			}
			left, err := filepath.Glob(path + ".partial-*")
			if err != nil || len(left) != 0 {
				t.Fatalf("temporary copies left: %q %v", left, err)
			}
		})
	}
}

// From the moment the restore has locked the database until its copy
// commits, no other connection can read or write it, at every stage
// (including after the switch back to the normal locking mode, which
// keeps the lock until the copy's own transaction ends).
func TestRestoreHoldsItsLockToTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := backupOf(t, 5)
	path := dbtest.Closed(t, 3)
	var stages []string
	hook := backup.WithRestoreHook(func(stage string) {
		stages = append(stages, stage)
		if stage == "copied" {
			return
		}
		d, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
		if err != nil {
			t.Error(err)
			return
		}
		defer d.Close()
		var n int
		err = d.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
		var se sqlite3.Error
		if !errors.As(err, &se) || se.Code != sqlite3.ErrBusy {
			t.Errorf("at stage %s another connection read the database: %d users, %v; want SQLITE_BUSY", stage, n, err)
		}
	})
	if _, err := backup.Restore(ctx, path, from, hook); err != nil {
		t.Fatal(err)
	}
	if want := []string{"locked", "kept", "copying", "copied"}; !slices.Equal(stages, want) {
		t.Fatalf("stages %q, want %q", stages, want)
	}
	if u, _ := dbtest.Pairs(t, path); u != 5 {
		t.Fatalf("restored database holds %d users, want 5", u)
	}
}
