// Package readme finds the shell blocks that tests run from the
// repository's Markdown files, so that a session the README shows is the
// session a test executes.
package readme

import (
	"bytes"
	"fmt"
	"os"
)

// ShellBlock returns the first ```sh block after marker in the Markdown
// file at path. It fails, naming the file and the marker, when either is
// missing.
func ShellBlock(path, marker string) (string, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("readme: %w", err)
	}
	_, rest, ok := bytes.Cut(doc, []byte(marker))
	if !ok {
		return "", fmt.Errorf("readme: %s has no %q", path, marker)
	}
	_, rest, ok = bytes.Cut(rest, []byte("```sh\n"))
	block, _, ok2 := bytes.Cut(rest, []byte("```\n"))
	if !ok || !ok2 {
		return "", fmt.Errorf("readme: %s has no ```sh block after %q", path, marker)
	}
	return string(block), nil
}
