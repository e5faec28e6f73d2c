package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// screen collects what a pseudo-terminal shows and tells when it shows a
// given text.
type screen struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // gets a value after each read
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows text, or fails the test after a
// generous deadline (a guard against a hang, not a timing assumption).
func (s *screen) waitFor(t *testing.T, text string, done <-chan struct{}) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(s.String(), text) {
		select {
		case <-s.changed:
		case <-done:
			if !strings.Contains(s.String(), text) {
				t.Fatalf("the terminal never showed %q; it shows %q", text, s.String())
			}
		case <-deadline:
			t.Fatalf("the terminal did not show %q in 30 s; it shows %q", text, s.String())
		}
	}
}

// In a real terminal (a pseudo-terminal: stdin and stderr are its tty),
// keys set prompts on stderr, reads the key without echo and stores it.
func TestKeysSetPromptsWithoutEcho(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })

	scr := &screen{changed: make(chan struct{}, 1)}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		b := make([]byte, 1024)
		for {
			n, err := ptmx.Read(b)
			scr.mu.Lock()
			scr.buf.Write(b[:n])
			scr.mu.Unlock()
			select {
			case scr.changed <- struct{}{}:
			default:
			}
			if err != nil { // EIO once the tty side is closed and drained
				return
			}
		}
	}()

	var stdout bytes.Buffer
	var code int
	cliDone := make(chan struct{})
	go func() {
		defer close(cliDone)
		code = run(context.Background(), []string{"keys", "set", "anthropic", "--by", "me@acme.test"},
			func(k string) string { return env[k] }, tty, &stdout, tty)
	}()

	const typed = "sk-typed-at-the-prompt"
	scr.waitFor(t, "anthropic API key (input hidden): ", cliDone)
	if _, err := io.WriteString(ptmx, typed+"\r"); err != nil {
		t.Fatal(err)
	}
	<-cliDone
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	<-readerDone

	shown := scr.String()
	if code != 0 || !strings.Contains(stdout.String(), "anthropic key set by me@acme.test") {
		t.Fatalf("keys set in a terminal: exit %d, stdout %q, terminal %q", code, stdout.String(), shown)
	}
	if strings.Contains(shown, typed) || strings.Contains(shown, "sk-") {
		t.Errorf("the terminal echoed the key: %q", shown)
	}
	if strings.Contains(stdout.String(), "input hidden") {
		t.Errorf("the prompt went to stdout: %q", stdout.String())
	}

	// The typed key is the one stored.
	key, err := seal.ParseKey(env["ORGDB_ENCRYPTION_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), env["ORGDB_DB"], store.WithSealingKey(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.OpenOrgAPIKey(context.Background(), "anthropic")
	if cerr := st.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil || got.Reveal() != typed {
		t.Errorf("stored key: %v (matches the typed one: %v)", err, err == nil && got.Reveal() == typed)
	}
}

// A refusal comes before the prompt: a non-admin --by is refused without
// asking for a key.
func TestKeysSetRefusesBeforePrompting(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGDB_DB": filepath.Join(t.TempDir(), "org.db")}
	org(t, env)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"keys", "set", "openai", "--by", "bob@acme.test"},
		func(k string) string { return env[k] }, tty, &stdout, &stderr)
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	shown, err := io.ReadAll(ptmx) // EIO once the closed tty side is drained
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(stderr.String(), "bob@acme.test is member, not an admin") || len(shown) != 0 {
		t.Errorf("exit %d, stderr %q, terminal %q; want a refusal and no prompt", code, stderr.String(), shown)
	}
}
