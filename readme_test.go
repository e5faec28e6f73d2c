package orgdb_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentops/orgdb/internal/readme"
)

// The README's steps to depend on orgdb from a Go service work as
// written: in a new module beside a "clone" (a link to this repository at
// ../orgdb), the block adds the replace and the requirement, and the
// service, which opens a store, builds and runs.
func TestREADMEDependency(t *testing.T) {
	t.Parallel()
	block, err := readme.ShellBlock("README.md", "<!-- TestREADMEDependency runs the next block")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.Symlink(root, filepath.Join(work, "orgdb")); err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(work, "myservice")
	if err := os.Mkdir(svc, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/myservice\n\ngo 1.26\n",
		"main.go": `package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/agentops/orgdb/store"
)

func main() {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountUsers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("users:", n)
}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(svc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = svc
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOWORK=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's dependency steps: %v\n%s", err, out)
	}
	gomod, err := os.ReadFile(filepath.Join(svc, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "github.com/agentops/orgdb => ../orgdb") || !strings.Contains(string(gomod), "require github.com/agentops/orgdb ") {
		t.Fatalf("go.mod after the README's steps lacks the replace or the require:\n%s", gomod)
	}
	db := filepath.Join(t.TempDir(), "orgdb.db")
	run := exec.Command("go", "run", ".", db)
	run.Dir, run.Env = svc, cmd.Env
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "users: 0") {
		t.Fatalf("the service that depends on orgdb: %v\n%s", err, out)
	}
}
