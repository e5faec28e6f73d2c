package schema_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/schema"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := dbtest.Path(t)
	d := dbtest.Raw(t, path)
	if err := schema.Verify(ctx, d, schema.FS()); !errors.Is(err, schema.ErrNotMigrated) {
		t.Fatalf("Verify(empty) = %v, want ErrNotMigrated", err)
	}
	if _, err := schema.Migrate(ctx, d, schema.FS()); err != nil {
		t.Fatal(err)
	}
	if err := schema.Verify(ctx, d, schema.FS()); err != nil {
		t.Fatalf("Verify(migrated) = %v", err)
	}
}
