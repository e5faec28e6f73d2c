package store

// WithExternalCheckpoints turns off every checkpoint orgdb would run: the
// background PASSIVE checkpoints, the last one in Close, and (as always on
// the writer) SQLite's automatic checkpoint at commit. Another process then
// decides when the WAL is copied into the database file: Litestream, which
// must see every WAL frame before it is checkpointed away and asks the
// applications it replicates not to checkpoint themselves. The WAL grows
// until that process checkpoints it.
//
// SQLite itself still checkpoints when the last connection to the database
// in any process closes; under Litestream that never happens, since
// Litestream keeps its own connection open. The CLI's
// --external-checkpoints flag and ORGDB_EXTERNAL_CHECKPOINTS=1 set this
// option. See deploy/litestream.yml.
func WithExternalCheckpoints() Option {
	return func(s *Store) { s.external = true }
}
