package store

import "testing"

// Only a text that is surely one statement is tried again after
// SQLITE_BUSY outside a transaction: a second statement may follow a first
// that committed.
func TestOneStatement(t *testing.T) {
	for q, want := range map[string]bool{
		`INSERT INTO pad VALUES (1)`:                             true,
		"INSERT INTO pad VALUES (1);\n":                          true,
		`INSERT INTO pad VALUES (1); INSERT INTO pad VALUES (2)`: false,
		`INSERT INTO t VALUES ('a;b')`:                           false, // a literal's semicolon: SQLite's own wait, never a retry
		`;;`:                                                     false,
	} {
		if got := oneStatement(q); got != want {
			t.Errorf("oneStatement(%q) = %v, want %v", q, got, want)
		}
	}
}
