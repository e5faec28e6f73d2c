package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/agentops/orgdb/store"
)

// Open a database file (migrating it) and run generated queries on it.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "orgdb-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "orgdb.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	settings, err := st.GetOrgSettings(ctx) // the generated gen/db query
	if err != nil {
		log.Fatal(err)
	}
	n, err := st.CountUsers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(settings.Name, settings.DomainGatingEnabled, len(settings.AllowedEmails), n)
	// Output: My Organization false 0 0
}
