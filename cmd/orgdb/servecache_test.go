package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// serveProcess starts `orgdb serve --addr 127.0.0.1:0 --log-format json`
// on env's database as a process of its own and returns it with its
// stderr (the JSON log); it is killed, if still running, when the test
// ends.
func serveProcess(t *testing.T, env map[string]string) (*exec.Cmd, io.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), cliMainEnv+"=1", "ORGDB_DB="+env["ORGDB_DB"], "ORGDB_ENCRYPTION_KEY="+env["ORGDB_ENCRYPTION_KEY"])
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // an error: it has exited, as the test wanted
		_ = cmd.Wait()         // an error: the test waited for it already
	})
	return cmd, stderr
}

// startServe runs `orgdb serve` on env's database as a process of its own
// and returns its address; it is killed when the test ends.
func startServe(t *testing.T, env map[string]string) string {
	t.Helper()
	_, stderr := serveProcess(t, env)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "orgdb serve: listening" {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			addr, _ := m["addr"].(string)
			return addr
		}
	}
	t.Fatal("orgdb serve exited before it listened")
	return ""
}

// orgdb serve keeps the settings, the users list and the tokens it looked
// up until anything commits on the database. The CLI, another process,
// writes beside it: every change is seen by the very next request, with
// no wait. Each step reads first (so the server caches), then changes
// through the CLI, then reads once.
func TestServeSeesOtherProcessesWritesAtOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env) // me@acme.test (admin), bob@acme.test (member)
	token := func(email string) string {
		code, out, errs := cli(t, env, "tokens", "create", email)
		if code != 0 {
			t.Fatalf("tokens create %s: %d %s", email, code, errs)
		}
		return strings.TrimSpace(out)
	}
	me, bob := token("me@acme.test"), token("bob@acme.test")
	addr := startServe(t, env)
	get := func(path, tok string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	twice := func(path, tok string, wantCode int, wantIn string) {
		t.Helper()
		for range 2 { // the second is served from what the first cached
			if code, body := get(path, tok); code != wantCode || !strings.Contains(body, wantIn) {
				t.Fatalf("GET %s: %d %s, want %d with %q", path, code, body, wantCode, wantIn)
			}
		}
	}
	change := func(args ...string) {
		t.Helper()
		if code, _, errs := cli(t, env, args...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
	}
	once := func(step, path, tok string, wantCode int, wantIn string) {
		t.Helper()
		if code, body := get(path, tok); code != wantCode || !strings.Contains(body, wantIn) {
			t.Errorf("%s: GET %s right after: %d %s, want %d with %q", step, path, code, body, wantCode, wantIn)
		}
	}

	twice("/api/admin", me, 200, `"name":"`)
	change("settings", "set", "--name", "Renamed by the CLI", "--by", "me@acme.test")
	once("settings set --name", "/api/admin", me, 200, `"name":"Renamed by the CLI"`)

	twice("/api/admin/users", me, 200, `"bob@acme.test"`)
	change("users", "add", "dave@acme.test", "--bypass-policy")
	once("users add", "/api/admin/users", me, 200, `"dave@acme.test"`)

	twice("/api/admin", bob, 403, "Admin access required")
	change("users", "set-role", "bob@acme.test", "admin", "--by", "me@acme.test")
	once("promotion", "/api/admin", bob, 200, `"name":"Renamed by the CLI"`)
	twice("/api/admin", bob, 200, `"name":"`)
	change("users", "set-role", "bob@acme.test", "member", "--by", "me@acme.test")
	once("demotion", "/api/admin", bob, 403, "Admin access required")

	twice("/api/auth/me", bob, 200, `"bob@acme.test"`)
	change("users", "delete", "bob@acme.test", "--by", "me@acme.test")
	once("user deleted", "/api/auth/me", bob, 401, "UNAUTHORIZED")

	twice("/api/admin", me, 200, `"name":"`)
	code, out, errs := cli(t, env, "tokens", "list", "--json")
	var list []struct {
		ID, Email string
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("tokens list --json: %d %s %s", code, out, errs)
	}
	for _, tk := range list {
		if tk.Email == "me@acme.test" {
			change("tokens", "revoke", tk.ID)
		}
	}
	once("token revoked", "/api/admin", me, 401, "UNAUTHORIZED")
}
