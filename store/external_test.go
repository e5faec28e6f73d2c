package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/store"
)

// With external checkpoints, nothing orgdb does copies the WAL into the
// database file: not the background checkpoints, not Close. (Another
// connection stays open throughout, as Litestream's does, so SQLite's own
// checkpoint at the last close does not run either.) Without the option,
// Close's checkpoint does copy it.
func TestExternalCheckpoints(t *testing.T) {
	t.Parallel()
	for _, external := range []bool{true, false} {
		path := dbtest.Closed(t, 0)
		other := dbtest.Raw(t, path)
		if _, err := other.Exec(`SELECT COUNT(*) FROM users`); err != nil {
			t.Fatal(err)
		}
		size := func() int64 {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		before := size()
		var opts []store.Option
		if external {
			opts = append(opts, store.WithExternalCheckpoints())
		}
		st, err := store.Open(context.Background(), path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 300 {
			if err := dbtest.AddPair(context.Background(), st.DB(), i); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if grew := size() > before; grew == external {
			t.Errorf("external checkpoints %v: the database file grew from %d to %d bytes (a checkpoint ran: %v)", external, before, size(), grew)
		}
	}
}
