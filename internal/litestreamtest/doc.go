// Package litestreamtest holds the tests that run orgdb under the real
// Litestream (v0.5.18, pinned in tools/litestream): a writer process
// killed mid-load and restored from a file replica, a point-in-time
// restore, and the WAL kept bounded by Litestream's checkpoints with
// store.WithExternalCheckpoints. They carry the build tag litestream and
// need the binary in $ORGDB_LITESTREAM: make test-litestream builds it and
// runs them.
package litestreamtest
