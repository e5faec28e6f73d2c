package main

import "testing"

// TestScaleOpsShareOneDatabase runs the scaling ops interleaved on one
// database, as the rounds do: AcceptInvite's accepted invites must not
// break GetInviteByEmail, and AcceptInvite must go round the table again.
func TestScaleOpsShareOneDatabase(t *testing.T) {
	s, err := seed(t.TempDir(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.st.Close()
	for round := range 3 {
		for o := range scaleOps {
			n := 700 // more than half the table: AcceptInvite wraps in round 2
			if _, err := measure(s, o, n); err != nil {
				t.Fatalf("round %d, %s: %v", round, scaleOps[o].name, err)
			}
		}
	}
}
