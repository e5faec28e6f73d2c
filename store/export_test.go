package store

// Test hooks: the unexported options, for the external tests.
var (
	WithWriterDriver    = withWriterDriver
	WithCheckpointQuery = withCheckpointQuery
)
