package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentops/orgdb/backup"
	"github.com/agentops/orgdb/store"
)

// Back up the database a service holds open, then restore that backup over
// the database once the service has stopped; the previous file is kept.
func ExampleFromStore() {
	dir, err := os.MkdirTemp("", "orgdb-example")
	check(err)
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "orgdb.db")

	st, err := store.Open(ctx, path)
	check(err)
	_, err = st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
	check(err)
	info, err := backup.FromStore(ctx, st, filepath.Join(dir, "backups", "orgdb.db"))
	check(err)
	_, err = st.CreateUser(ctx, store.NewUser{Email: "bob@acme.test"})
	check(err)
	check(st.Close()) // the service stops: nothing has the database open

	r, err := backup.Restore(ctx, path, info.Path)
	check(err)
	st, err = store.Open(ctx, path)
	check(err)
	defer func() { check(st.Close()) }()
	n, err := st.CountUsers(ctx)
	check(err)
	fmt.Println(n, strings.HasPrefix(r.Previous, path+".bak-"))
	// Output: 1 true
}
