//go:build !unix

package dbfile

// readOnlyFS cannot tell here: a read-only file system shows as SQLite's
// own error.
func readOnlyFS(string) bool { return false }
