package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SIGTERM stops a real `orgdb serve` process gracefully: a request in
// flight when the signal arrives (its handler is reading the body: the
// server said 100 Continue) finishes and commits, the process exits 0,
// and nothing more is accepted. Its log (JSON) has one line per request
// and never the token.
func TestServeGracefulSIGTERM(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)
	code, token, errs := cli(t, env, "tokens", "create", "me@acme.test", "--name", "sigterm test")
	if code != 0 {
		t.Fatalf("tokens create: %d %s", code, errs)
	}
	token = strings.TrimSpace(token)

	cmd, stderr := serveProcess(t, env)
	lines := make(chan map[string]any, 100)
	var logText strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logText.WriteString(sc.Text() + "\n")
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			lines <- m
		}
	}()
	await := func(msg string) map[string]any {
		t.Helper()
		for m := range lines {
			if m["msg"] == msg {
				return m
			}
		}
		t.Fatalf("orgdb serve exited before logging %q:\n%s", msg, logText.String())
		return nil
	}
	start := await("orgdb serve: listening")
	addr, _ := start["addr"].(string)
	if !strings.HasPrefix(addr, "127.0.0.1:") || !strings.Contains(fmt.Sprint(start["version"]), "schema version") {
		t.Fatalf("startup line: %v", start)
	}

	// One request on a raw connection, whose body waits for 100 Continue.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"Renamed during shutdown"}`
	fmt.Fprintf(conn, "PUT /api/admin HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, token, len(body))
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue (the handler reads the body): %v %v", cont, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	await("orgdb serve: shutting down: finishing the requests in flight")
	// The listener is closed now: a new connection is refused.
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted during the shutdown")
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(b), "Renamed during shutdown") {
		t.Fatalf("the request in flight: %d %s %v", resp.StatusCode, b, err)
	}
	await("orgdb serve: stopped")
	for range lines { // drain until the process closes stderr
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("orgdb serve after SIGTERM: %v, want exit 0\n%s", err, logText.String())
	}
	if code, out, errs := cli(t, env, "settings", "show"); code != 0 || !strings.Contains(out, "Renamed during shutdown") {
		t.Errorf("the change of the request in flight is not in the database: %d %s %s", code, out, errs)
	}
	log := logText.String()
	if !strings.Contains(log, `"msg":"request","method":"PUT","path":"/api/admin","status":200`) {
		t.Errorf("no access-log line for the request:\n%s", log)
	}
	if strings.Contains(log, token[len(token)-20:]) {
		t.Errorf("the log contains the token:\n%s", log)
	}
}

// Listening beyond loopback is warned about, before the startup line;
// cancelling the command's context (what SIGINT does) stops it with exit 0.
func TestServeWarnsBeyondLoopback(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"serve", "--addr", "0.0.0.0:0"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, pw)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "orgdb serve: listening") {
			break
		}
	}
	if len(seen) < 2 || !strings.Contains(seen[len(seen)-2], "level=WARN") || !strings.Contains(seen[len(seen)-2], "not loopback") {
		t.Errorf("no warning before the startup line: %q", seen)
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if code := <-done; code != 0 {
		t.Errorf("serve after its context was cancelled: exit %d", code)
	}
}
