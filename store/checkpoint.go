package store

import "time"

// checkpointEvery is how often the background checkpoint runs.
const checkpointEvery = 200 * time.Millisecond

// checkpoints copies committed WAL pages into the database file every
// checkpointEvery, on its own connection, until Close. PASSIVE never waits
// for readers or the writer, so neither waits for it; a failure (another
// process checkpointing, say) is logged and left to the next tick.
func (s *Store) checkpoints() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if !s.checkpointsHere() {
				continue // a LiteFS replica: LiteFS checkpoints its copy
			}
			_, err := s.ckpt.Exec(s.checkpointQuery)
			if err != nil {
				s.log.Warn("orgdb: background checkpoint failed; retrying on the next tick", "err", err)
			}
			if s.afterCheckpoint != nil {
				s.afterCheckpoint(err)
			}
		}
	}
}
