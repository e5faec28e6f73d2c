package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentops/orgdb/schema"
)

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func list(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCreateTakesTheNextFreeNumber(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "0001_initial.sql", "CREATE TABLE a (x);")
	write(t, dir, "0009_indexes.sql", "CREATE INDEX i ON a(x);")
	write(t, dir, "schema.sql", "-- the generated snapshot, not a migration")
	path, err := create(dir, "add_user_timezone")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "0010_add_user_timezone.sql"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "-- Add user timezone.\n-- Why: ") {
		t.Errorf("header = %q", b)
	}
	// The runner accepts the new file, and the next one gets 0011.
	ms, err := schema.Load(os.DirFS(dir))
	if err != nil || ms[len(ms)-1].Version != 10 {
		t.Fatalf("Load = %v, %v", ms, err)
	}
	if path, err := create(dir, "add_user_locale"); err != nil || filepath.Base(path) != "0011_add_user_locale.sql" {
		t.Errorf("second create = %s, %v", path, err)
	}
}

func TestCreateInEmptyFolder(t *testing.T) {
	path, err := create(t.TempDir(), "initial")
	if err != nil || filepath.Base(path) != "0001_initial.sql" {
		t.Errorf("create = %s, %v", path, err)
	}
}

func TestCreateRefusesBadNames(t *testing.T) {
	for name, want := range map[string]string{
		"":                      "NAME is missing",
		"Add_User":              "not a valid migration name",
		"add user":              "not a valid migration name",
		"add-user":              "not a valid migration name",
		"_add":                  "not a valid migration name",
		"add_user.sql":          "without .sql",
		"0010_add_user":         "without a number",
		"../escape":             "not a valid migration name",
		"add_user;rm -rf /tmp/": "not a valid migration name",
	} {
		dir := t.TempDir()
		write(t, dir, "0001_a.sql", "SELECT 1;")
		_, err := create(dir, name)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "NAME=add_user_timezone") {
			t.Errorf("create(%q) = %v, want an error with %q and an example", name, err, want)
		}
		if got := list(t, dir); !slices.Equal(got, []string{"0001_a.sql"}) {
			t.Errorf("create(%q) wrote %v", name, got)
		}
	}
}

func TestCreateRefusesABrokenFolder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "0002_a.sql", "SELECT 1;")
	write(t, dir, "0002_b.sql", "SELECT 1;")
	_, err := create(dir, "c")
	if err == nil || !strings.Contains(err.Error(), "duplicate version 2") {
		t.Errorf("create with a duplicate version in the folder = %v", err)
	}
	if got := list(t, dir); len(got) != 2 {
		t.Errorf("wrote %v", got)
	}
}
