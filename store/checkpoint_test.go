package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// checkpointTicks returns an option reporting every background checkpoint
// on the channel, and the channel.
func checkpointTicks() (store.Option, <-chan error) {
	ch := make(chan error, 1)
	return store.WithAfterCheckpoint(func(err error) {
		select {
		case ch <- err:
		default: // nobody waiting: drop it
		}
	}), ch
}

// awaitTicks waits for n background checkpoints to finish after the call.
// A tick buffered before the call is dropped first; the first one after
// may still have started before the call, so n = 2 guarantees one whole
// checkpoint after it.
func awaitTicks(t *testing.T, ticks <-chan error, n int) {
	t.Helper()
	select {
	case <-ticks: // finished before the call
	default:
	}
	for range n {
		select {
		case err := <-ticks:
			if err != nil {
				t.Fatalf("background checkpoint: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no background checkpoint in 10 s")
		}
	}
}

// Commits never checkpoint (the writer's autocheckpoint is off); the store
// copies the WAL into the database file in the background, and Close
// leaves no WAL behind.
func TestCheckpointsInTheBackground(t *testing.T) {
	t.Parallel()
	path := dbtest.Path(t)
	opt, ticks := checkpointTicks()
	st, err := store.Open(ctx, path, opt)
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := st.DB().QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Errorf("writer wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	var temp int // 2 is MEMORY: no temporary file per statement journal (dbfile/driver.go)
	if err := st.DB().QueryRow(`PRAGMA temp_store`).Scan(&temp); err != nil || temp != 2 {
		t.Errorf("writer temp_store = %d, %v; want 2 (MEMORY)", temp, err)
	}
	awaitTicks(t, ticks, 2) // the migration's pages are in the file
	before := size(t, path)
	tx, err := st.DB().Begin()
	must(t, err)
	for i := range 5000 {
		if _, err := tx.Exec(`INSERT INTO users (id, email) VALUES (?, ?)`, fmt.Sprint(i), fmt.Sprintf("u%d@acme.test", i)); err != nil {
			t.Fatal(err)
		}
	}
	must(t, tx.Commit())
	if size(t, path+"-wal") == 0 {
		t.Fatal("the commit wrote nothing to the WAL")
	}
	awaitTicks(t, ticks, 2)
	if size(t, path) <= before {
		t.Fatal("the database file did not grow: no background checkpoint")
	}
	must(t, st.Close())
	if n := size(t, path+"-wal"); n != 0 {
		t.Errorf("WAL holds %d bytes after Close", n)
	}
}

// A failed background checkpoint reaches the logger given WithLogger.
func TestWithLoggerGetsCheckpointFailures(t *testing.T) {
	t.Parallel()
	records := make(chan slog.Record, 1)
	log := slog.New(handlerFunc(func(r slog.Record) {
		select {
		case records <- r:
		default:
		}
	}))
	dbtest.New(t, store.WithLogger(log), store.WithCheckpointQuery(`SELECT * FROM no_such_table`))
	select {
	case r := <-records:
		var attrs []string
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
		if r.Level != slog.LevelWarn || !strings.Contains(r.Message, "checkpoint") || !strings.Contains(strings.Join(attrs, " "), "no such table") {
			t.Errorf("logged %s %q %v", r.Level, r.Message, attrs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no checkpoint failure logged in 10 s")
	}
}

// handlerFunc is a slog.Handler calling a function with every record.
type handlerFunc func(slog.Record)

func (h handlerFunc) Enabled(context.Context, slog.Level) bool      { return true }
func (h handlerFunc) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h handlerFunc) WithGroup(string) slog.Handler                 { return h }

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestWithReadConns(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t, store.WithReadConns(3))
	if n := st.ReadDB().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("read pool of %d", n)
	}
	if st, err := store.Open(ctx, dbtest.Path(t), store.WithReadConns(0)); err == nil {
		must(t, st.Close())
		t.Error("zero read connections accepted")
	}
}
