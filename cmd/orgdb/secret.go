package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// maxSecret bounds what readSecret reads from a pipe.
const maxSecret = 64 << 10

// readSecret reads a secret from stdin. On a terminal it prints prompt on
// stderr and reads one line without echo; from a pipe or a file it reads
// everything, with no prompt. A secret is never a command-line argument:
// it would end up in the shell history and in every process listing.
func (e *env) readSecret(prompt string) ([]byte, error) {
	f, ok := e.stdin.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) {
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxSecret))
		if err != nil {
			return nil, fmt.Errorf("read from stdin: %w", err)
		}
		return b, nil
	}
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read the terminal's state: %w", err)
	}
	// Interrupted while echo is off, the terminal gets its echo back.
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer func() {
		signal.Stop(sig)
		close(done)
	}()
	go func() {
		select {
		case <-sig:
			term.Restore(fd, state) //nolint:errcheck // exiting anyway
			fmt.Fprintln(e.stderr, "\ninterrupted; nothing stored")
			os.Exit(130)
		case <-done:
		}
	}()
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(e.stderr) // the Enter typed was not echoed
	if err != nil {
		return nil, fmt.Errorf("read from the terminal: %w", err)
	}
	return b, nil
}
