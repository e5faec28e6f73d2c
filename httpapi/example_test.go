package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/store"
)

// A Go service mounts the API with its own authentication: here, sessions
// it issued itself, looked up from a cookie. (README: "Mounting the API in
// a Go service" shows this code.)
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "orgdb-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	st, err := store.Open(ctx, filepath.Join(dir, "orgdb.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	me, _ := st.CreateUser(ctx, store.NewUser{Email: "me@acme.test"})
	_, _ = st.BootstrapAdmin(ctx, store.Operator("service startup"), "me@acme.test")

	// The service's sessions: session id -> user id.
	var sessions sync.Map
	sessions.Store("s3cr3t-session", me.ID)
	auth := httpapi.AuthenticatorFunc(func(r *http.Request) (string, error) {
		c, err := r.Cookie("session")
		if err != nil {
			return "", orgdb.Unauthorized("Authentication required")
		}
		uid, ok := sessions.Load(c.Value)
		if !ok {
			return "", orgdb.Unauthorized("Session expired: log in again")
		}
		return uid.(string), nil
	})

	log := slog.New(slog.NewTextHandler(io.Discard, nil)) // the service's logger
	mux := http.NewServeMux()
	mux.Handle("/api/", httpapi.New(st, auth, httpapi.WithLogger(log)))
	srv := httptest.NewServer(httpapi.AccessLog(log, mux)) // http.ListenAndServe in a service
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/admin/users", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "s3cr3t-session"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)

	resp2, err := http.Get(srv.URL + "/api/admin")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp2.Body.Close()
	body, _ := io.ReadAll(resp2.Body)
	fmt.Print(resp2.Status, " ", string(body))
	// Output:
	// 200 OK
	// 401 Unauthorized {"error":"Authentication required","code":"UNAUTHORIZED"}
}
