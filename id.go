package orgdb

import "crypto/rand"

// NewID returns a new random identifier: 128 bits from crypto/rand as 26
// characters of base32 (A–Z, 2–7), safe in URLs, file names and SQL text.
func NewID() string { return rand.Text() }
