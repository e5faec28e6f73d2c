package main

import (
	"testing"
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
