package main

import (
	"slices"
	"testing"
)

// A hand edit that keeps the file's length (one byte swapped) is drift
// too: diff compares contents, not sizes or times.
func TestDiffSeesASameLengthEdit(t *testing.T) {
	t.Chdir(t.TempDir())
	want := "package db\n\ntype User struct{ ID string }\n"
	edited := "package db\n\ntype User struct{ Id string }\n"
	if len(edited) != len(want) {
		t.Fatal("the edit must keep the length")
	}
	put(t, "gen/db/models.go", edited)
	d, err := diff(output{"gen/db/models.go": []byte(want)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.changed, []string{"gen/db/models.go"}) || d.empty() {
		t.Fatalf("diff = %+v; want gen/db/models.go changed", d)
	}
	if line := firstDiffLine("gen/db/models.go", []byte(want)); line != 3 {
		t.Errorf("first difference at line %d, want 3", line)
	}
}
