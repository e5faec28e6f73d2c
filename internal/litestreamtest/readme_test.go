//go:build litestream

package litestreamtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// The README's one-machine Litestream session runs as written from the
// repository's root: it builds bin/orgdb and bin/litestream, replicates a
// write, loses the database and recovers it. Its temporary directory is
// this test's (TMPDIR), and ORGDB_* come only from the block.
func TestREADMELitestream(t *testing.T) {
	bin(t) // skips (fails under CI=true) unless make test-litestream built Litestream
	block, err := readme.ShellBlock("../../README.md", "<!-- TestREADMELitestream runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = "../.."
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGDB_") && !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "MAKEFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's Litestream session: %v\n%s", err, out)
	}
	last := strings.TrimSpace(string(out))
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	if !strings.Contains(last, "me@acme.test") || !strings.Contains(last, "admin") {
		t.Fatalf("the recovered database does not list me@acme.test as admin; the session printed:\n%s", out)
	}
}
