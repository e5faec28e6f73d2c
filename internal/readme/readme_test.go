package readme_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

func TestShellBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	doc := "intro\n```sh\nnot this\n```\n<!-- M runs the next block -->\ntext\n```sh\necho one\necho two\n```\nafter\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readme.ShellBlock(path, "<!-- M runs")
	if err != nil || got != "echo one\necho two\n" {
		t.Fatalf("ShellBlock = %q, %v", got, err)
	}
	if _, err := readme.ShellBlock(path, "<!-- N runs"); err == nil || !strings.Contains(err.Error(), `no "<!-- N runs"`) {
		t.Errorf("a missing marker: %v", err)
	}
	if _, err := readme.ShellBlock(path, "after"); err == nil || !strings.Contains(err.Error(), "no ```sh block") {
		t.Errorf("a marker with no block after it: %v", err)
	}
}
