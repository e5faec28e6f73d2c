package store

import (
	"fmt"
	"time"
)

// The checkpoint policy. PASSIVE checkpoints alone never bound the WAL
// under sustained writes: they copy what they can but cannot make the
// writer start again at the front of the WAL while readers still use its
// frames, so the file grows for as long as writes keep coming (2.3 GB in
// 20 s from one process). Like Litestream, the store watches the WAL's
// size and escalates:
//
//   - every checkpointEvery, a PASSIVE checkpoint (it never waits);
//   - when the WAL holds more than walRestartBytes of frames, a RESTART
//     checkpoint: it waits (up to the busy timeout) for the readers of old
//     frames to finish, blocking new writes meanwhile, so that the next
//     writer starts again at the front of the WAL;
//   - when no frame was added since the previous tick and all are in the
//     database file (the store is idle), a TRUNCATE checkpoint: the WAL
//     is emptied to 0 bytes;
//   - the writer resets a WAL longer than journalSizeLimit to that size
//     when it starts again at its front (PRAGMA journal_size_limit).
//
// Under sustained writes from one process or several (each with its own
// store) the WAL stays below WALBound (measured: 18.9 MiB at most, make
// bench-wal); idle, it is empty. With [WithExternalCheckpoints] none of
// this runs, and on a LiteFS mount only the PASSIVE checkpoints run, as
// before (LiteFS owns the WAL's files there).
const (
	checkpointEvery  = 200 * time.Millisecond
	walRestartBytes  = 8 << 20
	journalSizeLimit = 6 << 20
	// WALBound is the size the WAL of a store that checkpoints (not
	// [WithExternalCheckpoints]) stays below under sustained writes.
	WALBound = 64 << 20
)

// checkpointer is the state of the background checkpoints between ticks.
type checkpointer struct {
	frameBytes int64 // bytes of one WAL frame: a page and its 24-byte header
	lastLog    int64 // frames in the WAL at the previous tick (-1: none yet)
}

// checkpoints copies committed WAL pages into the database file every
// checkpointEvery, on its own connection, until Close, escalating as the
// policy above says. A failure (another process checkpointing, a reader
// holding frames past the busy timeout) is logged and left to the next
// tick.
func (s *Store) checkpoints() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	c := checkpointer{lastLog: -1}
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if !s.checkpointsHere() {
				continue // a LiteFS replica: LiteFS checkpoints its copy
			}
			mode, err := s.checkpoint(&c)
			if err != nil {
				s.log.Warn("orgdb: background checkpoint failed; retrying on the next tick", "mode", mode, "err", err)
			}
			if s.afterCheckpoint != nil {
				s.afterCheckpoint(err)
			}
		}
	}
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
	log, done, err := s.walCheckpoint("PASSIVE")
	if err != nil {
		return "PASSIVE", err
	}
	if s.litefs != nil { // LiteFS owns the WAL's files: PASSIVE only
		return "PASSIVE", nil
	}
	idle := log == c.lastLog
	c.lastLog = log
	switch {
	case log*c.frameBytes > walRestartBytes:
		c.lastLog = -1
		_, _, err := s.walCheckpoint("RESTART")
		return "RESTART", err
	case idle && log > 0 && done == log:
		c.lastLog = -1
		_, _, err := s.walCheckpoint("TRUNCATE")
		return "TRUNCATE", err
	}
	return "PASSIVE", nil
}

// walCheckpoint runs PRAGMA wal_checkpoint(mode) and returns the frames in
// the WAL and those checkpointed.
func (s *Store) walCheckpoint(mode string) (log, done int64, err error) {
	var busy int
	if err := s.ckpt.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done); err != nil {
		return 0, 0, fmt.Errorf("%s checkpoint: %w", mode, err)
	}
	return log, done, nil
}
