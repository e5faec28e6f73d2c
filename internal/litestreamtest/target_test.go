//go:build !litestream

package litestreamtest

import "testing"

// The Litestream tests are in litestream_test.go, built with the tag
// litestream.
func TestLitestream(t *testing.T) {
	t.Skip("the Litestream tests run with `make test-litestream` (it builds the pinned litestream and runs go test -tags litestream ./internal/litestreamtest)")
}
