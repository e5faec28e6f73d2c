package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"path/filepath"
	"runtime"
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

// httpConn is one client: a keep-alive connection that sends a request
// written once and reads the response itself. It allocates nothing per
// request (net/http's Client allocates dozens of objects and hands each
// request between three goroutines), so the load generator, which shares
// the CPUs with the server, adds as little as it can to every latency,
// the floor's included. It still checks what a client must: the status
// (200), the framing (Content-Length or chunked), every byte of the body
// read, and that the server keeps the connection.
type httpConn struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialHTTP opens n connections to addr.
func dialHTTP(addr string, n int) ([]*httpConn, error) {
	var cs []*httpConn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			closeHTTP(cs)
			return nil, err
		}
		cs = append(cs, &httpConn{conn: c, r: bufio.NewReaderSize(c, 64<<10)})
	}
	return cs, nil
}

// redial replaces a connection whose state is unknown after an error.
func (c *httpConn) redial() {
	addr := c.conn.RemoteAddr().String()
	_ = c.conn.Close()
	if n, err := net.Dial("tcp", addr); err == nil {
		c.conn = n
		c.r.Reset(n)
	}
}

func closeHTTP(cs []*httpConn) {
	for _, c := range cs {
		_ = c.conn.Close()
	}
}

// httpRequest is the bytes of a GET of path on host with the bearer token.
func httpRequest(host, path, token string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: orgdb-bench\r\nAuthorization: Bearer " + token + "\r\n\r\n")
}

// get sends req and reads the whole response, returning the body's length.
// Anything but a 200 whose body was read to its end on a connection the
// server keeps is an error.
func (c *httpConn) get(req []byte) (int64, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	var status [3]byte
	copy(status[:], line[9:12])
	length, chunked, closing := int64(-1), false, false
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("bad header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, ok = decimal(value); !ok {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, fmt.Errorf("unexpected Transfer-Encoding %q", value)
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	var n int64
	switch {
	case chunked:
		n, err = io.Copy(io.Discard, httputil.NewChunkedReader(c.r))
		if err == nil { // the trailer section: an empty line
			line, err = c.r.ReadSlice('\n')
			if err == nil && len(bytes.TrimRight(line, "\r\n")) != 0 {
				err = fmt.Errorf("unexpected trailer %q", line)
			}
		}
	case length >= 0:
		var d int
		d, err = c.r.Discard(int(length))
		n = int64(d)
	default:
		err = errors.New("response without Content-Length or chunked encoding")
	}
	if err != nil {
		return n, fmt.Errorf("body: %w", err)
	}
	if string(status[:]) != "200" {
		return n, fmt.Errorf("status %s", status[:])
	}
	if closing {
		return n, errors.New("the server closed the connection")
	}
	return n, nil
}

// decimal parses a non-negative decimal number without allocating.
func decimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// loadHTTP runs one client per connection, sending req for d, and returns
// the latency percentiles, throughput and errors. A connection that failed
// is not used again in this window.
func loadHTTP(conns []*httpConn, req []byte, d time.Duration) httpRun {
	var mu sync.Mutex
	var lat []time.Duration
	var run httpRun
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 1<<14)
			var errs int
			var first string
			for time.Now().Before(deadline) {
				t0 := time.Now()
				_, err := c.get(req)
				mine = append(mine, time.Since(t0))
				if err != nil {
					errs++
					first = err.Error()
					c.redial()
					break
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
	host := ln.Addr().String()
	conns, err := dialHTTP(host, httpClients)
	if err != nil {
		return nil, "", err
	}
	defer closeHTTP(conns)

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
	usersP99 := fig("GET /api/admin/users p99 / floor p99", "", nil)
	errs := fig("errors", "", &target{"≤", 0})
	errs.total = true

	loadBefore := loadAverage()
	window := c.load / 2
	if window <= 0 {
		window = time.Second
	}
	// Warm up: connections, prepared statements, page cache.
	for _, t := range targets {
		if r := loadHTTP(conns, httpRequest(host, t.path, token), window/4); r.errors > 0 {
			return nil, "", fmt.Errorf("http warm-up %s: %d errors, first: %s", t.path, r.errors, r.firstErr)
		}
	}
	reqs := make([][]byte, len(targets))
	for i, t := range targets {
		reqs[i] = httpRequest(host, t.path, token)
	}
	var firstErr string
	round := func(k int) {
		var got [3]httpRun
		for j := range targets {
			i := (j + k) % len(targets)
			got[i] = loadHTTP(conns, reqs[i], window)
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
		usersP99.add(float64(got[2].p99) / float64(got[0].p99))
	}
	rounds := max(c.rounds/2, 6)
	for k := range rounds {
		round(k)
	}
	figs := slices.Concat(p99, p50, rps, []*figure{ratioP50, ratioP99, usersP50, usersP99, errs})
	more := rounds
	if _, err := refine(c.refine, 1, func(int) bool { return slices.ContainsFunc(figs, (*figure).unclear) }, func(int) error {
		round(more)
		more++
		return nil
	}); err != nil {
		return nil, "", err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "## HTTP API (orgdb serve's handler)\n\n%d keep-alive clients on loopback (each its own connection, writing its request and reading the response itself: status 200 checked, body read to its end), GET with an admin's API token, "+
		"%d rounds of a %s window per endpoint (order rotating); the floor is a handler on the same server answering a constant "+
		"JSON body of the settings' size. Each round gives each endpoint's p50 and p99 and the ratios of that round.\n\n",
		httpClients, more, window)
	fmt.Fprintf(&md, "The machine's load average (1 minute, /proc/loadavg), with client and server on its %d CPUs: %s at the start, %s at the end. "+
		"The p99s depend on it far more than on the handler: compare each with the floor's p99 of the same rounds.\n\n", runtime.NumCPU(), loadBefore, loadAverage())
	if firstErr != "" {
		fmt.Fprintf(&md, "First error: %s\n\n", firstErr)
	}
	markdown(&md, figs)
	return figs, md.String(), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
