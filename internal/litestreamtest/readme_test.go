//go:build litestream

package litestreamtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// docs/replicas.md's one-machine Litestream session runs as written from
// the repository's root: it builds bin/orgdb and bin/litestream,
// replicates a write, loses the database and recovers it; then, in the
// same shell, the lost-machine recipe restores it again through a private
// directory beside the database. Its temporary directory is
// this test's (TMPDIR), and ORGDB_* come only from the block.
func TestREADMELitestream(t *testing.T) {
	bin(t) // skips (fails under CI=true) unless make test-litestream built Litestream
	session, err := readme.ShellBlock("../../docs/replicas.md", "<!-- TestREADMELitestream runs the next block from")
	if err != nil {
		t.Fatal(err)
	}
	recovery, err := readme.ShellBlock("../../docs/replicas.md", "<!-- TestREADMELitestream runs the next block after")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", session+"echo '== recovery'\n"+recovery)
	cmd.Dir = "../.."
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGDB_") && !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, "MAKEFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs/replicas.md's Litestream session: %v\n%s", err, out)
	}
	first, _, ok := strings.Cut(string(out), "== recovery")
	if !ok || !strings.Contains(first, "me@acme.test") {
		t.Fatalf("the session before the recovery does not list me@acme.test:\n%s", out)
	}
	if strings.Contains(string(out), "warning") {
		t.Errorf("the session printed a warning (a directory that is not private?):\n%s", out)
	}
	last := strings.TrimSpace(string(out))
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	if !strings.Contains(last, "me@acme.test") || !strings.Contains(last, "admin") {
		t.Fatalf("the recovered database does not list me@acme.test as admin; the session printed:\n%s", out)
	}
}
