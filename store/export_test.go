package store

// Test hooks: the unexported options, for the external tests.
var (
	WithWriterDriver    = withWriterDriver
	WithCheckpointQuery = withCheckpointQuery
)

// WithAfterCheckpoint is withAfterCheckpoint, for the external tests.
var WithAfterCheckpoint = withAfterCheckpoint

// GateWaits is how many writes of s waited at the WAL's gate.
func GateWaits(s *Store) int64 {
	if s.gate == nil {
		return 0
	}
	return s.gate.waits.Load()
}
