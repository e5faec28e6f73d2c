package dbtest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/dbtest"
)

// fatalTB records the first Fatalf and ends its goroutine, as testing.T
// does, so that a helper's failure can be asserted.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// A snapshot taken while the test itself holds the pool's only connection
// fails within dbtest.Deadline, naming the query, instead of hanging.
func TestSnapshotHasADeadline(t *testing.T) {
	st := dbtest.New(t)
	raw := dbtest.Raw(t, dbtest.File(t, st.ReadDB()))
	raw.SetMaxOpenConns(1)
	tx, err := raw.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tx.Rollback(); err != nil {
			t.Error(err)
		}
	}()

	old := dbtest.Deadline
	dbtest.Deadline = 100 * time.Millisecond
	t.Cleanup(func() { dbtest.Deadline = old })
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dbtest.Snapshot(tb, raw)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a bound on a regression, not a wait for success
		t.Fatal("Snapshot still waits for a connection after 30 s: it has no deadline")
	}
	if !strings.Contains(tb.msg, "sqlite_master") || !strings.Contains(tb.msg, "no answer within 100ms") {
		t.Fatalf("Snapshot failed with %q; want the query named and the deadline", tb.msg)
	}
}
