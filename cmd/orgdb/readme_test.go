package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// The README's CLI session works when pasted: the block after its marker
// runs in bash with `orgdb` on PATH (this test binary, running the CLI)
// and ORGDB_* unset, every command succeeding, nothing on stderr.
func TestREADMECLISession(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash")
	}
	block, err := readme.ShellBlock("../../README.md", "<!-- TestREADMECLISession runs the next block")
	if err != nil {
		t.Fatal(err)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// atexit_sleep_ms: a race-enabled binary otherwise waits 1 s at exit.
	wrapper := fmt.Sprintf("#!/bin/sh\nexec env GORACE=\"${GORACE:-} atexit_sleep_ms=0\" %s=1 %q \"$@\"\n", cliMainEnv, exe)
	if err := os.WriteFile(filepath.Join(dir, "orgdb"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", block)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGDB_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Fatalf("the README's CLI session: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	for _, want := range []string{
		"added me@acme.test as admin", "bob@acme.test is now admin", `"email": "carol@acme.test"`,
		"already has an admin", "anthropic key set by me@acme.test", "re-sealed 1 key(s)",
		"anthropic key deleted", "0010_sealing_key.sql", "added carol@acme.test as admin",
		"added contractor@elsewhere.test as member", "revoked the pending invite of dan@acme.test",
		"deleted contractor@elsewhere.test (member", "org settings changed by me@acme.test",
		"sign-up:           only addresses at acme.test",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the session's output lacks %q:\n%s", want, stdout.String())
		}
	}
	// A write's result line starts with the database's absolute path.
	if !regexp.MustCompile(`(?m)^/\S*/orgdb\.db: added me@acme\.test as admin`).MatchString(stdout.String()) {
		t.Errorf("users add does not name the database first:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "data")); err == nil {
		t.Error("the session wrote ./data: ORGDB_DB was not used")
	}
}

// docs/serve.md's orgdb serve session works when pasted: a server in the
// background, curl with the token against it, every answer 2xx. Needs curl.
func TestREADMEServeSession(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl")
	}
	block, err := readme.ShellBlock("../../docs/serve.md", "<!-- TestREADMEServeSession runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := fmt.Sprintf("#!/bin/sh\nexec env GORACE=\"${GORACE:-} atexit_sleep_ms=0\" %s=1 %q \"$@\"\n", cliMainEnv, exe)
	if err := os.WriteFile(filepath.Join(dir, "orgdb"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", block)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGDB_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+t.TempDir(), fmt.Sprintf("PORT=%d", port))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		log, _ := os.ReadFile(filepath.Join(cmd.Dir, "serve.log"))
		t.Fatalf("the README's serve session: %v\nstderr:\n%s\nstdout:\n%s\nserve.log:\n%s", err, stderr.String(), stdout.String(), log)
	}
	for _, want := range []string{`"providers":{"github":false,"google":false}`, `"name":"Acme","allowedEmails":"a@acme.test,b@acme.test"`,
		`"email":"carol@acme.test","role":"admin"`, `"email":"me@acme.test","name":"Me"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the session's output lacks %q:\n%s", want, stdout.String())
		}
	}
	log, err := os.ReadFile(filepath.Join(cmd.Dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "msg=request"); n != 4 || !strings.Contains(string(log), "orgdb serve: stopped") {
		t.Errorf("serve.log: %d request lines, want 4, and a graceful stop:\n%s", n, log)
	}
}

// pasted runs setup, then a documentation block, then after, in one bash
// with -euo pipefail, as a user pastes them: `orgdb` on PATH (this test
// binary, running the CLI), ORGDB_* unset, TMPDIR a new private
// directory, in another new directory. It fails the test unless all of
// it succeeds, and returns stdout and stderr.
func pasted(t *testing.T, setup, block, after string) (string, string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := fmt.Sprintf("#!/bin/sh\nexec env GORACE=\"${GORACE:-} atexit_sleep_ms=0\" %s=1 %q \"$@\"\n", cliMainEnv, exe)
	if err := os.WriteFile(filepath.Join(dir, "orgdb"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", setup+"\n"+block+"\n"+after)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ORGDB_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstderr:\n%s\nstdout:\n%s\nthe block:\n%s", err, stderr.String(), stdout.String(), block)
	}
	return stdout.String(), stderr.String()
}

// docs/serve.md's token commands work when pasted: a token is created,
// listed and revoked, and is then listed as revoked.
func TestDocsTokens(t *testing.T) {
	t.Parallel()
	block, err := readme.ShellBlock("../../docs/serve.md", "<!-- TestDocsTokens runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr := pasted(t, `export ORGDB_DB="$TMPDIR/orgdb.db"; orgdb migrate >/dev/null; orgdb users add me@acme.test >/dev/null`,
		block, `echo "== after"; orgdb tokens list`)
	// tokens create says on stderr what it made (the token alone is on stdout).
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "created token orgdb_") {
		t.Errorf("stderr: want the one line of tokens create:\n%s", stderr)
	}
	_, after, _ := strings.Cut(out, "== after")
	if !strings.Contains(out, "revoked") || !regexp.MustCompile(`web client\s+me@acme\.test\s+revoked`).MatchString(after) {
		t.Errorf("the token is not revoked after the block:\n%s", out)
	}
}

// docs/security.md's rotation works when pasted on a database with a
// sealed key: the key is re-sealed, and opens with the new sealing key.
func TestDocsRotation(t *testing.T) {
	t.Parallel()
	block, err := readme.ShellBlock("../../docs/security.md", "<!-- TestDocsRotation runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr := pasted(t, `export ORGDB_DB="$TMPDIR/orgdb.db"; orgdb migrate >/dev/null; orgdb users add me@acme.test >/dev/null
export ORGDB_ENCRYPTION_KEY="$(orgdb keys gen-sealing-key)"; old="$ORGDB_ENCRYPTION_KEY"
printf %s sk-test | orgdb keys set anthropic --by me@acme.test >/dev/null`,
		block, `[ "$ORGDB_ENCRYPTION_KEY" != "$old" ]; echo "== after"; orgdb keys list`)
	if stderr != "" {
		t.Errorf("stderr:\n%s", stderr)
	}
	_, after, _ := strings.Cut(out, "== after")
	if !strings.Contains(out, "re-sealed 1 key(s)") || !regexp.MustCompile(`(?m)^anthropic\s+yes`).MatchString(after) {
		t.Errorf("the rotation did not re-seal the key, or it is not listed after:\n%s", out)
	}
}

// docs/durability.md's backup and restore work when pasted: the write
// made after the backup is gone after the restore, and the replaced
// database is kept beside it.
func TestDocsBackupRestore(t *testing.T) {
	t.Parallel()
	block, err := readme.ShellBlock("../../docs/durability.md", "<!-- TestDocsBackupRestore runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr := pasted(t, `export ORGDB_DB="$TMPDIR/db/orgdb.db" BACKUPS="$TMPDIR/backups"; install -d -m 700 "$BACKUPS"
orgdb migrate >/dev/null; orgdb users add me@acme.test >/dev/null`,
		block, `echo "== after"; orgdb users list; ls "$(dirname "$ORGDB_DB")"`)
	if stderr != "" {
		t.Errorf("stderr:\n%s", stderr)
	}
	_, after, _ := strings.Cut(out, "== after")
	if !strings.Contains(after, "me@acme.test") || strings.Contains(after, "late@acme.test") || !strings.Contains(after, "orgdb.db.bak-") {
		t.Errorf("after the restore: want me@acme.test, not late@acme.test, and a .bak- file:\n%s", out)
	}
}

// The README's install commands work as written: make install puts orgdb
// in $(go env GOPATH)/bin, here a temporary GOPATH (the module cache
// stays the usual one), says it is not on PATH, and the export makes
// `orgdb --version` and `orgdb --help` work.
func TestREADMEInstall(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("needs make")
	}
	block, err := readme.ShellBlock("../../README.md", "<!-- TestREADMEInstall runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	gopath := t.TempDir()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = "../.."
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GOPATH", "GOBIN", "GOMODCACHE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOPATH="+gopath, "GOMODCACHE="+strings.TrimSpace(string(modcache)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's install commands: %v\n%s", err, out)
	}
	bin := filepath.Join(gopath, "bin")
	for _, want := range []string{"install: " + bin + "/orgdb", bin + " is not on your PATH", "schema version", "orgdb help COMMAND"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the install session's output lacks %q:\n%s", want, out)
		}
	}
}
