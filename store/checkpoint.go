package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/agentops/orgdb/schema"
)

// The checkpoint policy. PASSIVE checkpoints alone never bound the WAL
// under sustained writes: they copy what they can but cannot make the
// writer start again at the front of the WAL while readers still use its
// frames, so the file grows for as long as writes keep coming (2.3 GB in
// 20 s from one process). Like Litestream (PASSIVE at about 4 MiB, a
// blocking TRUNCATE as its emergency brake past about 500 MB), the store
// escalates with the WAL's size, in tiers:
//
//   - every checkpointEvery, a PASSIVE checkpoint (it never waits);
//   - when the WAL holds more than walRestartBytes of frames (or its file
//     is that large, looked at every walWatchEvery), a RESTART
//     checkpoint on the writer's connection that waits at most
//     strongCheckpointWait for readers: when it gets through, the next
//     writer starts again at the front of the WAL; when readers keep it
//     from finishing, it gives up and the WAL keeps growing;
//   - past walGateBytes the gate (below): every write, in every process
//     with a store that checkpoints, waits for a TRUNCATE checkpoint
//     before it writes, for up to walGateWait;
//   - when no frame was added since the previous tick and all are in the
//     database file (the store is idle), a TRUNCATE checkpoint: the WAL
//     is emptied to 0 bytes;
//   - the writer resets a WAL longer than journalSizeLimit to that size
//     when it starts again at its front (PRAGMA journal_size_limit).
//
// The first two tiers keep the WAL small when they get their turn; the
// gate makes the bound hold when they do not (a loaded machine, readers
// slower than a RESTART waits: 70.9 and 82.7 MiB were measured without
// it). The guarantee: the WAL file stays at most WALBound, provided
//
//   - every process writing the file is an orgdb store that checkpoints
//     (not [WithExternalCheckpoints], not on LiteFS, not another SQLite
//     program such as the sqlite3 shell);
//   - a transaction writes at most WALBound-walGateBytes (32 MiB) of
//     pages; a statement run outside a transaction through [Store.DB]'s
//     Exec is checked before it takes the write lock, so several
//     processes' statements may each add theirs; other statements outside
//     a transaction (a prepared one, a Query) pass no gate;
//   - no reader holds a snapshot for longer than walGateWait while the
//     WAL is past walGateBytes. A longer one (a backup of a large
//     database, a slow [Store.ReadTx]) lets the writes go on after
//     walGateWait, logged at Warn, and the WAL grows until it ends.
//
// Idle, the WAL is emptied within two ticks. With
// [WithExternalCheckpoints] none of this runs (no checkpoint, no gate),
// and on a LiteFS mount only the PASSIVE checkpoints run, as before
// (LiteFS owns the WAL's files there). make bench-wal measures the bound
// and what the policy costs (bench/RESULTS-wal.md).
const (
	checkpointEvery  = 200 * time.Millisecond
	walRestartBytes  = 8 << 20
	journalSizeLimit = 6 << 20
	// WALBound is the size the WAL file of a store that checkpoints (not
	// [WithExternalCheckpoints]) stays within, under the conditions the
	// package's checkpoint policy states: every writer is such a store,
	// a transaction writes at most 32 MiB, and no reader holds a snapshot
	// past 2 s while the WAL is larger than 32 MiB.
	WALBound = 64 << 20
)

// checkpointer is the state of the background checkpoints between ticks.
type checkpointer struct {
	frameBytes int64         // bytes of one WAL frame: a page and its 24-byte header
	lastLog    int64         // frames in the WAL at the previous tick (-1: none yet)
	strongOK   time.Time     // no RESTART or TRUNCATE before this instant
	backoff    time.Duration // the wait after the next busy one
}

// After a RESTART or TRUNCATE that readers kept from finishing, the
// 50 ms watch waits before trying another (the 200 ms tick does not: it
// alone keeps the bound), from minBackoff doubling to
// maxBackoff while they stay busy (a backup's long read transaction), back
// to none after one finishes: each holds the write lock while it waits,
// and one every 50 ms from two stores starved the writers on the file
// ("database is locked" after their 5 s); a fixed second (or a ceiling of
// one) let the WAL reach 118-209 MiB under writes whose readers are short.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 250 * time.Millisecond
)

// checkpoints copies committed WAL pages into the database file every
// checkpointEvery, on its own connection, until Close, escalating as the
// policy above says; between those ticks it looks at the WAL's size every
// walWatchEvery, and runs the RESTART as soon as it is large (at 70 MiB
// a second of frames, 200 ms let it reach 53 MiB). A failure (another
// process checkpointing, a reader holding frames past the wait) is logged
// and left to the next tick.
func (s *Store) checkpoints(walPath string) {
	defer close(s.done)
	t := time.NewTicker(walWatchEvery)
	defer t.Stop()
	c := checkpointer{lastLog: -1}
	for tick := 1; ; tick++ {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if !s.checkpointsHere() {
			continue // a LiteFS replica: LiteFS checkpoints its copy
		}
		var mode string
		var err error
		switch {
		case tick%int(checkpointEvery/walWatchEvery) == 0:
			mode, err = s.checkpoint(&c)
		case s.checkpointQuery == "" && s.litefs == nil && time.Now().After(c.strongOK) && fileSize(walPath) > walRestartBytes:
			mode, err = "RESTART", s.strongCheckpoint(&c, "RESTART")
		default:
			continue
		}
		if err != nil {
			s.log.Warn("orgdb: background checkpoint failed; retrying on the next tick", "mode", mode, "err", err)
		}
		if s.afterCheckpoint != nil {
			s.afterCheckpoint(err)
		}
	}
}

// walWatchEvery is how often the background goroutine looks at the WAL's
// size.
const walWatchEvery = 50 * time.Millisecond

// fileSize is the size of the file at path, 0 if it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// checkpoint runs one tick of the policy and returns the strongest mode
// it ran.
func (s *Store) checkpoint(c *checkpointer) (string, error) {
	if s.checkpointQuery != "" { // tests
		_, err := s.ckpt.Exec(s.checkpointQuery)
		return "test", err
	}
	if c.frameBytes == 0 {
		var page int64
		if err := s.ckpt.QueryRow(`PRAGMA page_size`).Scan(&page); err != nil {
			return "PASSIVE", fmt.Errorf("page size: %w", err)
		}
		c.frameBytes = page + 24
	}
	log, done, err := s.walCheckpoint(s.ckpt, "PASSIVE")
	if err != nil {
		return "PASSIVE", err
	}
	if s.litefs != nil { // LiteFS owns the WAL's files: PASSIVE only
		return "PASSIVE", nil
	}
	idle := log == c.lastLog
	c.lastLog = log
	switch {
	case idle && log > 0 && done == log:
		c.lastLog = -1
		return "TRUNCATE", s.strongCheckpoint(c, "TRUNCATE")
	case log*c.frameBytes > walRestartBytes:
		return "RESTART", s.strongCheckpoint(c, "RESTART")
	}
	return "PASSIVE", nil
}

// walCheckpoint runs PRAGMA wal_checkpoint(mode) on pool and returns the
// frames in the WAL and those checkpointed.
func (s *Store) walCheckpoint(pool *sql.DB, mode string) (log, done int64, err error) {
	var busy int
	if err := pool.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done); err != nil {
		return 0, 0, fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	return log, done, nil
}

// strongCheckpointWait is how long a RESTART or TRUNCATE checkpoint waits
// for the write lock and for readers of old frames: it holds the write
// lock while it waits for readers, so every writer, in every process,
// waits too; past it the checkpoint gives up until the next tick.
const strongCheckpointWait = 100 * time.Millisecond

// strongCheckpoint runs a RESTART or TRUNCATE checkpoint on the writer's
// connection, with a busy timeout of strongCheckpointWait.
//
// The writer's connection, because these checkpoints need the write lock
// and a busy store's writer takes it again as soon as it commits: a
// checkpoint on a connection of its own polled for it (SQLite's busy
// handler sleeps between tries) while the WAL kept growing (188 MiB in
// 1.5 s, measured). On the writer's connection it waits its turn in the
// pool, and the store's writes queue behind it. The short busy timeout,
// because with the store's 5 s another process's writers, waiting for the
// lock it holds while it waits for readers, ran out of theirs ("database
// is locked").
//
// It sets the timeout on the go-sqlite3 connection itself (checkpointOn):
// the writer's connection gives every statement outside a transaction
// the store's timeout back when it ends (gatedConn.polling), so a PRAGMA
// busy_timeout through it lasted only until the checkpoint's own
// statement, which then waited 5 s for a backup's reader while writers
// ran out of their wait (CI, TestBackupIsOneSnapshot).
func (s *Store) strongCheckpoint(ck *checkpointer, mode string) error {
	ctx := context.Background()
	c, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	defer c.Close()
	var busy bool
	err = c.Raw(func(dc any) (err error) {
		wc, ok := sqliteConn(dc)
		if !ok {
			return fmt.Errorf("the writer's connection is %T, want go-sqlite3's", dc)
		}
		busy, err = checkpointOn(ctx, wc, mode, strongCheckpointWait)
		if g, ok := dc.(*gatedConn); ok {
			g.timeout = unknownTimeout // checkpointOn set its own
		}
		return err
	})
	if err != nil || busy {
		ck.backoff = min(max(2*ck.backoff, minBackoff), maxBackoff)
		ck.strongOK = time.Now().Add(ck.backoff)
	} else {
		ck.backoff = 0
	}
	return err
}

// sqliteConn is the go-sqlite3 connection under dc, a connection of the
// store's writer pool: behind the gate or not.
func sqliteConn(dc any) (writerConn, bool) {
	if g, ok := dc.(*gatedConn); ok {
		return g.writerConn, true
	}
	wc, ok := dc.(writerConn)
	return wc, ok
}

// The gate: the part of the policy that makes WALBound hold whatever the
// timing. The background checkpoints above keep the WAL small when they
// get their turn; on a loaded machine, or with readers that hold their
// snapshots longer than a RESTART waits, they may not, and the WAL grew
// at the writers' rate (70-83 MiB measured in 20 s). So every write
// passes the gate first: while the WAL file is larger than walGateBytes,
// the writer, in every process with a store that checkpoints, stops and
// checkpoints it itself (TRUNCATE, waiting for readers) before it
// writes. A writer looks with the write lock held (gatedConn.BeginTx), so
// the WAL ends at most one transaction past walGateBytes. It looks at the
// file's size (a stat, about a microsecond a transaction), not at the
// WAL's frames: go-sqlite3 does not expose sqlite3_wal_hook, PRAGMA
// wal_checkpoint reports the frames only by checkpointing, and the file's
// size is what the bound is about (what fills a disk). Readers are short,
// so a wait at the gate is short too; the checkpoint's attempts hold the
// write lock at most walGateAttempt for readers, well within the busy
// timeout other processes' writers wait for it.
const (
	// walGateBytes is the WAL size past which writes wait for a
	// checkpoint: half of WALBound, leaving the other half for the
	// transaction that found it below.
	walGateBytes = WALBound / 2
	// walGateWait is the longest a write waits at the gate for readers
	// to let the WAL be checkpointed; past it the write goes on and the
	// WAL may pass WALBound until they finish (a long read transaction:
	// a backup, a slow [Store.ReadTx]). Writers of other processes wait
	// for the write lock the checkpoint holds meanwhile, so it stays well
	// below the 5 s busy timeout.
	walGateWait = 2 * time.Second
	// walGateAttempt is the busy timeout of one checkpoint at the gate:
	// how long it waits for the write lock, then for readers, before it
	// lets the write lock go and tries again.
	walGateAttempt = 250 * time.Millisecond
	// walGateRetry is the pause after a checkpoint at the gate found
	// another connection checkpointing (SQLite then returns busy at once,
	// without its busy handler).
	walGateRetry = 5 * time.Millisecond
)

// walGate is the state of one store's gate.
type walGate struct {
	walPath string
	log     *slog.Logger
	// open is set while the gate lets writes through past walGateBytes:
	// a checkpoint at the gate waited walGateWait in vain. It is cleared
	// when the WAL is found below walGateBytes again.
	open atomic.Bool
	// waits counts the writes that waited at the gate (tests).
	waits atomic.Int64
}

func newWALGate(walPath string, log *slog.Logger) *walGate {
	return &walGate{walPath: walPath, log: log}
}

// closed reports whether a write must pass the gate before it writes:
// the WAL file is larger than walGateBytes, and no earlier wait gave up.
func (g *walGate) closed() bool {
	if fileSize(g.walPath) <= walGateBytes {
		if g.open.CompareAndSwap(true, false) {
			g.log.Info("orgdb: the WAL is below its gate's threshold again; writes wait for checkpoints past it", "threshold_bytes", walGateBytes)
		}
		return false
	}
	return !g.open.Load()
}

// pass checkpoints the WAL on c (the writer's connection, outside a
// transaction) with TRUNCATE until it is at most walGateBytes, for at
// most walGateWait; then it opens the gate and logs why. Only ctx's end
// is an error.
func (g *walGate) pass(ctx context.Context, c writerConn) error {
	g.waits.Add(1)
	deadline := time.Now().Add(walGateWait)
	logged := false
	for {
		if fileSize(g.walPath) <= walGateBytes {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			if !g.open.Swap(true) {
				g.log.Warn("orgdb: the WAL is past its gate's threshold and readers kept it from being checkpointed; "+
					"writing on, so the WAL may pass its bound until they finish (a long read transaction: a backup, a slow ReadTx)",
					"wal_bytes", fileSize(g.walPath), "threshold_bytes", walGateBytes, "bound_bytes", WALBound, "waited", walGateWait)
			}
			return nil
		}
		busy, err := checkpointOn(ctx, c, "TRUNCATE", min(left, walGateAttempt))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !logged { // once a wait: it tries again every few milliseconds
				g.log.Warn("orgdb: checkpoint at the WAL's gate failed; trying again", "err", err)
				logged = true
			}
		}
		if busy || err != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(walGateRetry):
			}
		}
	}
}

// checkpointOn runs PRAGMA wal_checkpoint(mode) on c, a go-sqlite3
// connection outside a transaction, with a busy timeout of wait, then
// restores the store's busy timeout. It reports whether SQLite returned
// busy (another checkpoint ran, or readers stayed past wait). Its errors
// name the mode.
func checkpointOn(ctx context.Context, c writerConn, mode string, wait time.Duration) (busy bool, err error) {
	if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, max(wait.Milliseconds(), 1)), nil); err != nil {
		return false, fmt.Errorf("%s checkpoint: set the busy timeout: %w", mode, err)
	}
	defer func() {
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, schema.BusyTimeout.Milliseconds()), nil); rerr != nil && err == nil {
			// The writer must not keep the short timeout: database/sql
			// drops a connection that returns ErrBadConn.
			err = fmt.Errorf("%s checkpoint: restore the busy timeout: %w", mode, errors.Join(rerr, driver.ErrBadConn))
		}
	}()
	rows, err := c.QueryContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`, nil)
	if err != nil {
		return false, fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	defer rows.Close()
	v := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(v); err != nil {
		return false, fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	b, _ := v[0].(int64)
	return b != 0, nil
}
