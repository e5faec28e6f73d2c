package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// cliMainEnv makes the test binary run the CLI with its arguments and
// exit, so a test can run it as another user.
const cliMainEnv = "ORGDB_TEST_CLI_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(cliMainEnv) != "" {
		main() // the CLI's own main, signal handling included
	}
	// The tests' directories (t.TempDir) are private, as a deployment's
	// should be: the CLI's warning about files others can read appears
	// only where a test asks for it (security_test.go).
	syscall.Umask(0o077)
	os.Exit(m.Run())
}

// A read-only orgdb file (another user's, or a copy on read-only media)
// can be read: the read commands open it read-only, even in WAL mode with
// no -shm file and a directory they cannot write. Root can write anything,
// so the CLI runs as nobody (setpriv, util-linux); a test run that is not
// root has no other user to become and skips.
func TestReadOnlyFileCanBeRead(t *testing.T) {
	t.Parallel()
	setpriv, err := exec.LookPath("setpriv")
	if os.Geteuid() != 0 || err != nil {
		t.Skip("needs root and setpriv to run the CLI as an unprivileged user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "org.db")
	if code, _, errs := cli(t, nil, "migrate", "--db", path); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if code, _, errs := cli(t, nil, "users", "add", "ada@acme.test", "--db", path); code != 0 {
		t.Fatalf("users add: %s", errs)
	}
	// The test binary, where nobody can run it.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "orgdb.test")
	src, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{path: 0o444, dir: 0o555, filepath.Dir(dir): 0o755} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) }) //nolint:errcheck // best effort, so TempDir can remove it
	for _, args := range [][]string{{"users", "list"}, {"status"}, {"keys", "list"}} {
		cmd := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, append(args, "--db", path)...)...)
		// atexit_sleep_ms: a race-enabled binary otherwise waits 1 s at exit.
		cmd.Env = append(os.Environ(), cliMainEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ada@acme.test") && args[0] == "users" {
			t.Errorf("orgdb %s on a read-only file, as nobody: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Nothing was written beside it.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); name != "org.db" && name != "orgdb.test" {
			t.Errorf("%s appeared beside the read-only file", name)
		}
	}
}
