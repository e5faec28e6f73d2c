package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/agentops/orgdb/store"
)

// The handler alone (no network): an admin's GET of the settings and of
// 100 users. make bench's http part measures them over loopback against
// the HTTP floor.
func BenchmarkHandler(b *testing.B) {
	f := newFixture(b)
	for i := 2; i < 100; i++ {
		name := fmt.Sprintf("Member %d", i)
		_, err := f.st.CreateUserBypassingPolicy(ctx, store.Operator("bench"), store.NewUser{Email: fmt.Sprintf("m%03d@acme.test", i), Name: &name})
		must(b, err)
	}
	for _, path := range []string{"/api/admin", "/api/admin/users"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", path, nil)
					r.Header.Set("Authorization", "Bearer "+f.tokens["admin"])
					w := httptest.NewRecorder()
					f.h.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("%s: %d %s", path, w.Code, w.Body)
					}
				}
			})
		})
	}
}
