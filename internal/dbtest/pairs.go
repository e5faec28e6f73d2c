package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/dbfile"
	"github.com/agentops/orgdb/store"
)

// Pairs are the fixture of the tests that copy, replace or checkpoint a
// whole file (backup, restore, the WAL): a user and an invite that user
// sent, written in one transaction, so that a database in which every
// transaction committed whole has exactly one invite per user.

// AddPair inserts pair i through d, in one transaction.
func AddPair(ctx context.Context, d *sql.DB, i int) (err error) {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	now := orgdb.NewTime(time.Now())
	exp := orgdb.NewTime(time.Now().Add(time.Hour))
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, role, created_at, updated_at) VALUES (?, ?, 'member', ?, ?)`,
		fmt.Sprintf("u%07d", i), fmt.Sprintf("user%07d@acme.test", i), now, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO invites (id, email, role, invited_by, expires_at, created_at) VALUES (?, ?, 'member', ?, ?, ?)`,
		fmt.Sprintf("i%07d", i), fmt.Sprintf("inv%07d@acme.test", i), fmt.Sprintf("u%07d", i), exp, now); err != nil {
		return err
	}
	return tx.Commit()
}

// Pairs counts the users and invites of the database file at path, read
// through a read-only connection.
func Pairs(tb testing.TB, path string) (users, invites int) {
	tb.Helper()
	d := ReadOnly(tb, path)
	if err := d.QueryRow(`SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM invites)`).Scan(&users, &invites); err != nil {
		tb.Fatal(err)
	}
	return users, invites
}

// ReadOnly opens path read-only (at rest when nothing writes it), closed
// when the test ends.
func ReadOnly(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	dsn, err := dbfile.ReadOnlyDSN(context.Background(), path, true)
	if err != nil {
		tb.Fatal(err)
	}
	d := dbfile.Pool(dsn, dbfile.PlainDriver())
	tb.Cleanup(func() { d.Close() })
	return d
}

// Closed returns a new database file of n pairs that no store has open.
func Closed(tb testing.TB, n int) string {
	tb.Helper()
	path := Path(tb)
	st, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if err := AddPair(context.Background(), st.DB(), 100+i); err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// WantRefusal fails tb unless err is an *orgdb.Error of code (and of
// reason, unless it is "") whose text says every one of says.
func WantRefusal(tb testing.TB, what string, err error, code orgdb.Code, reason string, says ...string) {
	tb.Helper()
	var oe *orgdb.Error
	if !errors.As(err, &oe) || oe.Code != code || (reason != "" && oe.Reason != reason) {
		tb.Fatalf("%s: %v, want %s %s", what, err, code, reason)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			tb.Errorf("%s: %q does not say %q", what, err, s)
		}
	}
}
