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

// The README's orgdb serve session works when pasted: a server in the
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
	block, err := readme.ShellBlock("../../README.md", "<!-- TestREADMEServeSession runs the next block")
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
