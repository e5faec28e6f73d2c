package dbtest

import (
	"errors"
	"fmt"

	"bufio"
	"github.com/agentops/orgdb"
	"io"
	"os"
	osexec "os/exec"
	"strings"
	"sync"
	"testing"
)

// Children starts one copy of the running test binary per spec, with
// env=spec in its environment (the test's TestMain makes it a child that
// runs the spec and exits), waits until every child has printed "ready",
// releases them together by closing their standard input, and returns the
// line each printed next. A child that ends without a report fails tb.
func Children(tb testing.TB, env string, specs []string) []string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	type child struct {
		cmd    *osexec.Cmd
		in     io.WriteCloser
		out    *bufio.Scanner
		stderr strings.Builder
	}
	children := make([]*child, len(specs))
	for i, spec := range specs {
		c := &child{cmd: osexec.Command(exe, "-test.run=^$")}
		c.cmd.Env = append(os.Environ(), env+"="+spec)
		c.cmd.Stderr = &c.stderr
		if c.in, err = c.cmd.StdinPipe(); err != nil {
			tb.Fatal(err)
		}
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		c.out = bufio.NewScanner(stdout)
		if err := c.cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		children[i] = c
	}
	line := func(c *child) string {
		if !c.out.Scan() {
			tb.Fatalf("child %v ended without a report (stderr: %s)", c.cmd.Env[len(c.cmd.Env)-1], c.stderr.String())
		}
		return c.out.Text()
	}
	for _, c := range children {
		if got := line(c); got != "ready" {
			tb.Fatalf("child did not get ready: %q (stderr: %s)", got, c.stderr.String())
		}
	}
	// Release all at once: each child is blocked on its stdin.
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.in.Close()
		}()
	}
	wg.Wait()
	out := make([]string, len(children))
	for i, c := range children {
		out[i] = line(c)
		if err := c.cmd.Wait(); err != nil && !strings.HasPrefix(out[i], "error") {
			tb.Fatalf("child exited with %v after reporting %q", err, out[i])
		}
	}
	return out
}

// Ready is a child's side of [Children]'s start: it prints "ready" and
// waits until its standard input is closed (or gets a line).
func Ready() {
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n') //nolint:errcheck // EOF releases the child too
}

// Report is a child's report of err to [Children], returning its exit
// status: "ok" (0), "refused CODE" for an *orgdb.Error that is not
// INTERNAL_ERROR (0), or "error MESSAGE" on one line (1).
func Report(err error) int {
	var e *orgdb.Error
	switch {
	case err == nil:
		fmt.Println("ok")
		return 0
	case errors.As(err, &e) && e.Code != orgdb.CodeInternal:
		fmt.Println("refused", e.Code)
		return 0
	default:
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
}
