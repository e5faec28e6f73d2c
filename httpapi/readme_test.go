package httpapi_test

import (
	"os"
	"strings"
	"testing"
)

// docs/serve.md's Go block for a service is ExampleNew's code (which runs,
// with its output checked): each of its lines appears there, in order.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../docs/serve.md")
	must(t, err)
	example, err := os.ReadFile("example_test.go")
	must(t, err)
	const marker = "<!-- TestREADMEExample: the next block is part of ExampleNew"
	_, rest, ok := strings.Cut(string(readme), marker)
	if !ok {
		t.Fatalf("docs/serve.md has no %q", marker)
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("no ```go block after the marker")
	}
	code := string(example)
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.Index(code, line)
		if i < 0 {
			t.Fatalf("docs/serve.md's line %q is not in ExampleNew (after the lines before it)", line)
		}
		code = code[i+len(line):]
	}
}
