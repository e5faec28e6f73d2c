package seal

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/agentops/orgdb"
)

// Redacted is what a Secret shows instead of its value.
const Redacted = "[REDACTED]"

// Secret is a plaintext API key. Its String, GoString, every fmt verb
// (%v, %+v, %#v, %s, %q, %x…), JSON, text encoding and slog all show
// [Redacted]; only Reveal returns the value. The value sits behind a
// pointer, so even reflection-based printing of a struct that holds a
// Secret in an unexported field shows an address, not the key.
type Secret struct {
	v *string
}

// NewSecret wraps a plaintext key.
func NewSecret(s string) Secret { return Secret{&s} }

// Reveal returns the plaintext. Call it only where the key is handed to
// the provider's client.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// String returns [Redacted].
func (s Secret) String() string { return Redacted }

// GoString returns [Redacted].
func (s Secret) GoString() string { return Redacted }

// Format writes [Redacted] for every verb.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, Redacted) }

// MarshalJSON writes "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// UnmarshalJSON reads a JSON string (a request body's key) into the
// secret; null leaves it empty. The error for anything else never
// contains the input.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return orgdb.Validation("the API key must be a JSON string").WithDetails("field", "key")
	}
	*s = Secret{v}
	return nil
}

// MarshalText writes [Redacted].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue makes slog write [Redacted].
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
