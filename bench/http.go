package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentops/orgdb/apitoken"
	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/store"
)

// The http part: orgdb serve's handler on loopback, 16 concurrent
// keep-alive clients, against a handler on the same server that answers a
// constant JSON body (the HTTP floor: routing, headers, the connection).

const (
	httpClients = 16
	httpUsers   = 100
)

// httpTarget is one endpoint the clients call.
type httpTarget struct {
	name, path string
}

// httpRun is one window of 16 clients on one endpoint.
type httpRun struct {
	p50, p99 time.Duration
	rps      float64
	errors   int
	firstErr string
}

// loadHTTP runs 16 clients on url for d, each with its own keep-alive
// connection, and returns the latency percentiles, throughput and errors.
func loadHTTP(client *http.Client, url, token string, d time.Duration) httpRun {
	var mu sync.Mutex
	var lat []time.Duration
	var run httpRun
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range httpClients {
		wg.Go(func() {
			var mine []time.Duration
			var errs int
			var first string
			for time.Now().Before(deadline) {
				req, err := http.NewRequest("GET", url, nil)
				if err != nil {
					errs++
					continue
				}
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				mine = append(mine, time.Since(t0))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			run.errors += errs
			if run.firstErr == "" {
				run.firstErr = first
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	if len(lat) > 0 {
		run.p50, run.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	run.rps = float64(len(lat)) / elapsed.Seconds()
	return run
}

// runHTTP measures GET /api/admin and GET /api/admin/users (100 users)
// against the constant handler, interleaved: each round runs a window of
// every endpoint, the order rotating, and the ratios pair windows of the
// same round. c.rounds windows of c.load / 2 each (10 × 1 s by default
// for 10 s per endpoint).
func runHTTP(dir string, c config) ([]*figure, string, error) {
	path := filepath.Join(dir, "http.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	admin, err := st.CreateUser(ctx, store.NewUser{Email: "admin@acme.test"})
	if err != nil {
		return nil, "", err
	}
	op := store.Operator("bench")
	if _, err := st.BootstrapAdmin(ctx, op, admin.Email); err != nil {
		return nil, "", err
	}
	for i := 1; i < httpUsers; i++ {
		name := fmt.Sprintf("Member %d", i)
		if _, err := st.CreateUserBypassingPolicy(ctx, op, store.NewUser{Email: fmt.Sprintf("member%03d@acme.test", i), Name: &name}); err != nil {
			return nil, "", err
		}
	}
	tok, err := apitoken.Create(ctx, st, op, apitoken.NewToken{UserID: admin.ID, Name: "bench"})
	if err != nil {
		return nil, "", err
	}
	token := tok.Secret.Reveal()

	// The server as orgdb serve builds it, logging to nowhere.
	log := slog.New(slog.DiscardHandler)
	settings, err := st.GetOrgSettings(ctx)
	if err != nil {
		return nil, "", err
	}
	constant := []byte(fmt.Sprintf(`{"id":%q,"name":%q,"domainGatingEnabled":false,"emailAllowlistEnabled":false,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`+"\n", settings.ID, settings.Name))
	mux := http.NewServeMux()
	authn, err := apitoken.NewAuthenticator(ctx, st, log)
	if err != nil {
		return nil, "", err
	}
	defer authn.Close()
	mux.Handle("/api/", httpapi.New(st, authn, httpapi.WithLogger(log)))
	mux.HandleFunc("GET /floor", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(constant)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: httpapi.AccessLog(log, mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpClients, MaxConnsPerHost: httpClients}}
	defer client.CloseIdleConnections()

	targets := []httpTarget{{"floor (constant JSON)", "/floor"}, {"GET /api/admin", "/api/admin"}, {"GET /api/admin/users (100 users)", "/api/admin/users"}}
	fig := func(name, unit string, t *target) *figure {
		return &figure{part: "http", name: name, unit: unit, target: t}
	}
	p99 := make([]*figure, len(targets))
	p50 := make([]*figure, len(targets))
	rps := make([]*figure, len(targets))
	for i, t := range targets {
		var tp *target
		if i > 0 {
			tp = &target{"≤", 5}
		}
		p99[i] = fig(t.name+" p99", "ms", tp)
		p50[i] = fig(t.name+" p50", "ms", nil)
		rps[i] = fig(t.name+" requests/s", "", nil)
	}
	ratioP50 := fig("GET /api/admin p50 / floor p50", "", &target{"≤", 1.5})
	ratioP99 := fig("GET /api/admin p99 / floor p99", "", &target{"≤", 1.5})
	usersP50 := fig("GET /api/admin/users p50 / floor p50", "", nil)
	errs := fig("errors", "", &target{"≤", 0})
	errs.total = true

	window := c.load / 2
	if window <= 0 {
		window = time.Second
	}
	// Warm up: connections, prepared statements, page cache.
	for _, t := range targets {
		if r := loadHTTP(client, base+t.path, token, window/4); r.errors > 0 {
			return nil, "", fmt.Errorf("http warm-up %s: %d errors, first: %s", t.path, r.errors, r.firstErr)
		}
	}
	var firstErr string
	round := func(k int) {
		var got [3]httpRun
		for j := range targets {
			i := (j + k) % len(targets)
			got[i] = loadHTTP(client, base+targets[i].path, token, window)
		}
		var n int
		for i, r := range got {
			p99[i].add(ms(r.p99))
			p50[i].add(ms(r.p50))
			rps[i].add(r.rps)
			n += r.errors
			if firstErr == "" {
				firstErr = r.firstErr
			}
		}
		errs.add(float64(n))
		ratioP50.add(float64(got[1].p50) / float64(got[0].p50))
		ratioP99.add(float64(got[1].p99) / float64(got[0].p99))
		usersP50.add(float64(got[2].p50) / float64(got[0].p50))
	}
	rounds := max(c.rounds/2, 6)
	for k := range rounds {
		round(k)
	}
	figs := slices.Concat(p99, p50, rps, []*figure{ratioP50, ratioP99, usersP50, errs})
	more := rounds
	if _, err := refine(c.refine, 1, func(int) bool { return slices.ContainsFunc(figs, (*figure).unclear) }, func(int) error {
		round(more)
		more++
		return nil
	}); err != nil {
		return nil, "", err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "## HTTP API (orgdb serve's handler)\n\n%d keep-alive clients on loopback, GET with an admin's API token, "+
		"%d rounds of a %s window per endpoint (order rotating); the floor is a handler on the same server answering a constant "+
		"JSON body of the settings' size. Each round gives each endpoint's p50 and p99 and the ratios of that round.\n\n",
		httpClients, more, window)
	if firstErr != "" {
		fmt.Fprintf(&md, "First error: %s\n\n", firstErr)
	}
	markdown(&md, figs)
	return figs, md.String(), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
