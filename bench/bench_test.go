package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestVariantsAgree runs every implementation of every operation and checks
// that they return the same result: the benchmark compares equal work.
func TestVariantsAgree(t *testing.T) {
	f, err := newFixture(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	for _, o := range ops {
		for i := range 3 {
			var want string
			for v := range nVariants {
				if o.setup != nil {
					if err := o.setup(f, i+1); err != nil {
						t.Fatal(err)
					}
				}
				got, err := o.run[v](f, i)
				if err != nil {
					t.Fatalf("%s/%s #%d: %v", o.name, variantNames[v], i, err)
				}
				if v == 0 {
					want = got
				} else if got != want {
					t.Errorf("%s #%d: %s returned %q, orgdb %q", o.name, i, variantNames[v], got, want)
				}
			}
		}
	}
}

// BenchmarkOps is every operation in every variant, for go test -bench and
// benchstat. make bench runs them interleaved in rounds instead (main.go).
func BenchmarkOps(b *testing.B) {
	f, err := newFixture(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer f.close()
	for _, o := range ops {
		for v := range nVariants {
			b.Run(o.name+"/"+variantNames[v], f.benchmark(o, v))
		}
	}
}

// compareScale is the size of BenchmarkScale's database: big enough that a
// lost index turns a lookup into a scan that costs far more than noise,
// small enough to seed in about a second.
const compareScale = 20_000

// BenchmarkScale is the scaling operations of make bench on a database of
// compareScale users and invites, for make bench-compare: the small
// fixture of BenchmarkOps hides a lost index, this one does not.
func BenchmarkScale(b *testing.B) {
	s, err := seed(b.TempDir(), compareScale)
	if err != nil {
		b.Fatal(err)
	}
	defer s.st.Close()
	for o := range scaleOps {
		b.Run(scaleOps[o].name, func(b *testing.B) {
			if err := s.prepare(o, b.N); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := scaleOps[o].run(s, i); err != nil {
					b.Fatalf("%s: %v", scaleOps[o].name, err)
				}
			}
		})
	}
}

// TestHTTPClient holds the http part's client to what a client must check:
// a 200 whose body, with Content-Length or chunked, is read to its end on
// a connection the server keeps; anything else is an error.
func TestHTTPClient(t *testing.T) {
	big := strings.Repeat("x", 100_000) // over net/http's buffer: chunked
	mux := http.NewServeMux()
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, big) })
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	conns, err := dialHTTP(host, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeHTTP(conns)
	c := conns[0]
	for range 3 { // the same connection, kept alive
		if n, err := c.get(httpRequest(host, "/small", "tok")); err != nil || n != int64(len(`{"ok":true}`)) {
			t.Fatalf("/small: %d bytes, %v", n, err)
		}
		if n, err := c.get(httpRequest(host, "/big", "tok")); err != nil || n != int64(len(big)) {
			t.Fatalf("/big (chunked): %d bytes, %v", n, err)
		}
	}
	if _, err := c.get(httpRequest(host, "/small", "wrong")); err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Errorf("a 401: got %v, want an error naming the status", err)
	}
	if _, err := c.get(httpRequest(host, "/missing", "tok")); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("a 404: got %v, want an error naming the status", err)
	}
	if _, err := c.get(httpRequest(host, "/close", "tok")); err == nil || !strings.Contains(err.Error(), "closed the connection") {
		t.Errorf("Connection: close: got %v, want an error", err)
	}
	c.redial()
	// loadHTTP counts the refusal as an error and replaces the connection.
	if r := loadHTTP(conns, httpRequest(host, "/missing", "tok"), 50*time.Millisecond); r.errors != 1 || !strings.Contains(r.firstErr, "404") {
		t.Errorf("loadHTTP of a 404: %d errors (%q), want 1", r.errors, r.firstErr)
	}
	if r := loadHTTP(conns, httpRequest(host, "/small", "tok"), 50*time.Millisecond); r.errors != 0 || r.rps == 0 {
		t.Errorf("loadHTTP of a 200 after a redial: %d errors (%q), %.0f requests/s", r.errors, r.firstErr, r.rps)
	}
}
