package store

// Test hooks: the unexported options, for the external tests.
var (
	WithWriterDriver    = withWriterDriver
	WithCheckpointQuery = withCheckpointQuery
)

// WithAfterCheckpoint is withAfterCheckpoint, for the external tests.
var WithAfterCheckpoint = withAfterCheckpoint

// WithBackupStep is withBackupStep, for the external tests.
var WithBackupStep = withBackupStep

// WithRestoreHook is withRestoreHook, for the external tests.
var WithRestoreHook = withRestoreHook

// GateWaits is how many writes of s waited at the WAL's gate.
func GateWaits(s *Store) int64 {
	if s.gate == nil {
		return 0
	}
	return s.gate.waits.Load()
}
