package store

// Test hooks: the unexported options, for the external tests.
var (
	WithWriterDriver    = withWriterDriver
	WithCheckpointQuery = withCheckpointQuery
)

// WithAfterCheckpoint is withAfterCheckpoint, for the external tests.
var WithAfterCheckpoint = withAfterCheckpoint
