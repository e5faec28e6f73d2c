// Package litefsrun runs real LiteFS nodes on one machine, for the LiteFS
// tests and benchmarks: each node is a `litefs mount` process with its own
// mount directory, data directory and loopback HTTP port, leased
// statically (one candidate primary; the others replicate from it).
//
// The LiteFS binary is built by `make litefs` (pinned in
// tools/litefs/go.mod); [Binary] finds it, or says what is missing.
package litefsrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Env is the environment variable that names the LiteFS binary.
const Env = "ORGDB_LITEFS"

// Binary returns the LiteFS binary named by $ORGDB_LITEFS, else bin/litefs
// of this source tree (where `make litefs` builds it), or an error saying
// what is missing (the binary, /dev/fuse, fusermount3) and how to get it.
func Binary() (string, error) {
	bin := os.Getenv(Env)
	if _, file, _, ok := runtime.Caller(0); bin == "" && ok {
		bin = filepath.Join(filepath.Dir(file), "..", "..", "bin", "litefs")
	}
	var why string
	switch {
	case bin == "":
		why = "$" + Env + " is not set"
	case !isFile(bin):
		why = "no LiteFS binary at " + bin + " (`make litefs` builds it there; $" + Env + " names another)"
	case !exists("/dev/fuse"):
		why = "/dev/fuse does not exist (FUSE is not available to this machine or container)"
	default:
		if _, err := exec.LookPath("fusermount3"); err != nil {
			why = "fusermount3 is not installed (apt-get install fuse3)"
		}
	}
	if why != "" {
		return "", fmt.Errorf("LiteFS is not available: %s; run these tests with `make test-litefs`, which builds LiteFS and runs them", why)
	}
	return bin, nil
}

func isFile(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() }
func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Node is one LiteFS process.
type Node struct {
	Name string // the node's lease hostname
	Dir  string // its directory: config, log, mnt/ and data/
	Mnt  string // the FUSE mount directory: databases live here
	Addr string // its HTTP API address, 127.0.0.1:PORT

	bin  string
	cmd  *exec.Cmd
	done chan error
}

// NewNode prepares a node named name in dir (created if needed) with a
// free loopback port; it does not start it.
func NewNode(bin, dir, name string) (*Node, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	n := &Node{Name: name, Dir: dir, Mnt: filepath.Join(dir, "mnt"), Addr: addr, bin: bin}
	for _, d := range []string{n.Mnt, filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// URL is the node's advertised LiteFS API URL.
func (n *Node) URL() string { return "http://" + n.Addr }

// LogPath is where the node's output goes.
func (n *Node) LogPath() string { return filepath.Join(n.Dir, "litefs.log") }

// Log returns the node's output so far (for a failure message).
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogPath())
	return string(b)
}

// Config returns the node's litefs.yml: a primary (candidate) leases as
// itself; a replica names the primary's hostname and URL.
func (n *Node) Config(primary *Node) string {
	candidate, host, url := primary == n, primary.Name, primary.URL()
	return fmt.Sprintf(`# written by internal/litefsrun
fuse:
  dir: %q
data:
  dir: %q
exit-on-error: false
http:
  addr: %q
lease:
  type: static
  candidate: %v
  hostname: %q
  advertise-url: %q
tracing:
  enabled: false
`, n.Mnt, filepath.Join(n.Dir, "data"), n.Addr, candidate, host, url)
}

// Start writes the node's config with primary as the static primary
// (itself, or another node), starts LiteFS and waits until the mount is
// ready: on the primary, the lease held; on a replica, connected to the
// primary. ctx bounds the wait.
func (n *Node) Start(ctx context.Context, primary *Node) error {
	if n.cmd != nil {
		return fmt.Errorf("litefs node %s: already running", n.Name)
	}
	cfg := filepath.Join(n.Dir, "litefs.yml")
	if err := os.WriteFile(cfg, []byte(n.Config(primary)), 0o644); err != nil {
		return err
	}
	log, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(n.bin, "mount", "-config", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	// If this process dies (a test's timeout panic skips its cleanups),
	// LiteFS gets SIGTERM and unmounts.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start litefs %s: %w", n.Name, err)
	}
	n.cmd, n.done = cmd, make(chan error, 1)
	go func() { n.done <- cmd.Wait() }()
	if err := n.await(ctx, primary == n); err != nil {
		return errors.Join(err, n.Stop())
	}
	return nil
}

// await polls the mount until the node is ready or its process exits.
func (n *Node) await(ctx context.Context, primary bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		lag, lagErr := os.ReadFile(filepath.Join(n.Mnt, ".lag"))
		host, hostErr := os.ReadFile(filepath.Join(n.Mnt, ".primary"))
		switch {
		case primary && lagErr == nil && bytes.Equal(lag, []byte("+000000000\n")) && hostErr != nil:
			return nil
		case !primary && hostErr == nil && len(host) > 0 && lagErr == nil && !bytes.HasPrefix(lag, []byte("+2147483647")):
			return nil
		}
		select {
		case err := <-n.done:
			n.done <- err
			return fmt.Errorf("litefs %s exited before it was ready (%v):\n%s", n.Name, err, n.Log())
		case <-ctx.Done():
			return fmt.Errorf("litefs %s not ready: %w:\n%s", n.Name, ctx.Err(), n.Log())
		case <-t.C:
		}
	}
}

// Stop stops LiteFS (SIGINT, which unmounts; SIGKILL after 10 s) and makes
// sure nothing stays mounted (fusermount3 -u, lazily if busy). Close the
// stores on the mount first. Stop on a stopped node only unmounts.
func (n *Node) Stop() error {
	var errs []error
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
			errs = append(errs, fmt.Errorf("litefs %s did not stop on SIGINT within 10 s; killed", n.Name))
		}
		n.cmd = nil
	}
	errs = append(errs, Unmount(n.Mnt))
	return errors.Join(errs...)
}

// Kill stops LiteFS at once (SIGKILL), as a crash would, then unmounts.
func (n *Node) Kill() error {
	if n.cmd != nil {
		_ = n.cmd.Process.Kill()
		<-n.done
		n.cmd = nil
	}
	return Unmount(n.Mnt)
}

// Unmount unmounts dir if it is a mount point: fusermount3 -u, then -uz
// (lazy) if it is busy.
func Unmount(dir string) error {
	if !Mounted(dir) {
		return nil
	}
	out, err := exec.Command("fusermount3", "-u", dir).CombinedOutput()
	if err == nil || !Mounted(dir) {
		return nil
	}
	if out2, err2 := exec.Command("fusermount3", "-uz", dir).CombinedOutput(); err2 != nil {
		return fmt.Errorf("unmount %s: %v: %s; lazily: %v: %s", dir, err, out, err2, out2)
	}
	return nil
}

// Mounted reports whether dir is a mount point (per /proc/self/mountinfo).
func Mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 4 && f[4] == abs {
			return true
		}
	}
	return false
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
