package main

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	snapshot := []string{"CREATE TABLE a (\n  x TEXT,\n  y TEXT DEFAULT 'a  b'\n)", "CREATE INDEX i ON a(x)"}
	d1 := []string{"CREATE TABLE a (x TEXT, y TEXT DEFAULT 'a  b')", "CREATE INDEX i ON a(x, y)"}
	if got, want := diff(snapshot, d1), []string{"CREATE INDEX i ON a(x)"}; !slices.Equal(got, want) {
		t.Errorf("only in the snapshot: %q, want %q", got, want)
	}
	if got, want := diff(d1, snapshot), []string{"CREATE INDEX i ON a(x, y)"}; !slices.Equal(got, want) {
		t.Errorf("only in D1: %q, want %q", got, want)
	}
	// Whitespace inside a literal counts.
	if got := diff([]string{"CREATE TABLE a (y TEXT DEFAULT 'a b')"}, d1[:1]); len(got) != 1 {
		t.Errorf("a literal that differs in whitespace compared equal")
	}
}
