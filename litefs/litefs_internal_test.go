package litefs

import "testing"

// LiteFS writes .lag with fmt's %+010d: a sign and nine digits, or ten for
// the largest values (2147483647 before a replica's first sync).
func TestParseLag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"+000000000\n": 0, "+000000078\n": 78, "+2147483647\n": 2147483647, "-000000005\n": -5} {
		if got, err := parseLag([]byte(in)); err != nil || got != want {
			t.Errorf("parseLag(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0\n", "+000000000", "000000000\n", "+00000000x\n", "+000000000000\n", "lag\n"} {
		if _, err := parseLag([]byte(bad)); err == nil {
			t.Errorf("parseLag(%q) accepted", bad)
		}
	}
}
