package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/litefs"
	"github.com/agentops/orgdb/store"
)

// Read your writes across LiteFS nodes: after a write, the primary sends
// its position to the client (here a header); the client sends it back
// with its next request, and whichever node serves it waits for that
// position before reading. A write that reaches a replica is NOT_PRIMARY,
// whose details name the primary to forward it to. Off LiteFS, as here,
// the position is zero and WaitFor returns at once.
func ExampleStore_WaitFor() {
	st, done := openExample()
	defer done()
	ctx := context.Background()

	// The request that writes (on the primary, or forwarded to it).
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "ada@acme.test"}); err != nil {
		var e *orgdb.Error
		if errors.As(err, &e) && e.Code == orgdb.CodeNotPrimary {
			fmt.Println("forward to", e.Details["primary"]) // or answer e.HTTPStatus(): 421
		}
		return
	}
	pos, err := st.Pos()
	check(err)
	resp := http.Header{}
	resp.Set("Orgdb-Position", pos.String())

	// The client's next request, on any node.
	req := http.Header{}
	req.Set("Orgdb-Position", resp.Get("Orgdb-Position"))
	if v := req.Get("Orgdb-Position"); v != "" {
		p, err := litefs.ParsePos(v) // VALIDATION_ERROR (400) if mangled
		check(err)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := st.WaitFor(wctx, p); err != nil {
			fmt.Println(orgdb.HTTPStatus(err)) // 503 (UNAVAILABLE): retry, or read on the primary
			return
		}
	}
	u, err := st.GetUserByEmail(ctx, "ada@acme.test")
	check(err)
	fmt.Println(u.Email, st.Role(), pos)
	// Output: ada@acme.test standalone 0000000000000000/0000000000000000
}
