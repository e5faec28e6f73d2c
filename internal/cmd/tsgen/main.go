// Command tsgen writes gen/ts/types.ts, the TypeScript types of the JSON the
// Go service serves (see package internal/tsgen). make generate does not run
// this command: internal/cmd/generate calls the package directly, with the
// freshly generated gen/db.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/agentops/orgdb/internal/tsgen"
)

func main() {
	out := flag.String("o", "gen/ts/types.ts", "the file to write")
	dbDir := flag.String("db", "", "a freshly generated gen/db to read instead of the one on disk")
	flag.Parse()
	var overlay map[string][]byte
	var err error
	if *dbDir != "" {
		overlay, err = tsgen.DBOverlay(*dbDir, "gen/db")
	}
	var src []byte
	if err == nil {
		src, err = tsgen.Generate(overlay)
	}
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(*out), 0o755); err == nil {
			err = os.WriteFile(*out, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tsgen:", err)
		os.Exit(1)
	}
}
