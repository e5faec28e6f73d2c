package seal_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/agentops/orgdb/seal"
)

// Derive refuses a count outside [MinIterations, MaxIterations] with the
// same typed error (ENCRYPTION_ERROR bad_sealing_key) before it derives
// anything, so a database edited to a huge count fails at once instead of
// hanging; the bounds themselves are accepted.
func TestDeriveIterationBounds(t *testing.T) {
	t.Parallel()
	const pass = "correct horse battery staple"
	var rounds []int // the counts the derivation ran with
	k, err := seal.ParseKeyWith("sealing key", seal.PassphrasePrefix+pass, func(p string, kdf seal.KDF) ([]byte, error) {
		rounds = append(rounds, kdf.Iterations)
		return bytes.Repeat([]byte{1}, seal.KeySize), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	salt := bytes.Repeat([]byte{9}, seal.MinSaltSize)
	for _, n := range []int{seal.MinIterations - 1, seal.MaxIterations + 1, 1 << 40, math.MaxInt} {
		_, err := k.Derive(seal.KDF{Salt: salt, Iterations: n})
		wantReason(t, err, seal.ReasonBadKey)
		if strings.Contains(err.Error(), pass) {
			t.Errorf("error leaks the passphrase: %v", err)
		}
		if len(rounds) != 0 {
			t.Fatalf("Derive ran the derivation (%v rounds) for a count of %d out of bounds", rounds, n)
		}
	}
	for _, n := range []int{seal.MinIterations, seal.MaxIterations} {
		if _, err := k.Derive(seal.KDF{Salt: salt, Iterations: n}); err != nil {
			t.Errorf("Derive with %d rounds: %v", n, err)
		}
	}
	if want := []int{seal.MinIterations, seal.MaxIterations}; len(rounds) != 2 || rounds[0] != want[0] || rounds[1] != want[1] {
		t.Errorf("derived with %v rounds, want %v", rounds, want)
	}
}
