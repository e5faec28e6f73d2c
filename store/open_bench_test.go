package store_test

import (
	"testing"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/internal/dbtest"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// BenchmarkOpen measures what a service pays to start: parsing
// ORGDB_ENCRYPTION_KEY and opening (then closing) a migrated database that
// holds a sealed org API key, with a raw key and with a passphrase (PBKDF2,
// 600,000 rounds; derived with the database's salt inside Open).
func BenchmarkOpen(b *testing.B) {
	for _, tc := range []struct{ name, key string }{
		{"raw", seal.GenerateKey()},
		{"passphrase", "passphrase:correct horse battery staple"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			path := dbtest.Path(b)
			k, err := seal.ParseKey(tc.key)
			if err != nil {
				b.Fatal(err)
			}
			st, err := store.Open(ctx, path, store.WithSealingKey(k))
			if err != nil {
				b.Fatal(err)
			}
			u, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.SetOrgAPIKey(ctx, store.ByUser(u.ID), orgdb.ProviderAnthropic, seal.NewSecret("sk-bench")); err != nil {
				b.Fatal(err)
			}
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				k, err := seal.ParseKey(tc.key)
				if err != nil {
					b.Fatal(err)
				}
				st, err := store.Open(ctx, path, store.WithSealingKey(k))
				if err != nil {
					b.Fatal(err)
				}
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
