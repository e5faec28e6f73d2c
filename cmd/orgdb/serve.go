package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentops/orgdb/apitoken"
	"github.com/agentops/orgdb/httpapi"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// DefaultAddr is where orgdb serve listens unless --addr says otherwise:
// loopback only.
const DefaultAddr = "127.0.0.1:8787"

// shutdownGrace is how long a shutdown waits for requests in flight.
const shutdownGrace = 30 * time.Second

func newServeCmd(e *env) *cobra.Command {
	var addr, static, logFormat string
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--static DIR]",
		Short: "Serve the admin API (and a built web client) over HTTP",
		Long: `Serve the agent-ops admin API over the database at /api: the routes the web
client's admin settings page calls, authenticated with API tokens (orgdb
tokens create). With --static DIR it also serves a built single-page web
client from DIR, answering unknown paths outside /api with its index.html.

It logs one line per request on stderr (method, path, status, duration, user
id; never a token, a key or a body), as text or, with --log-format json, as
JSON. SIGINT or SIGTERM stops it: requests in flight finish (up to 30 s).
Org API keys can be set when $ORGDB_ENCRYPTION_KEY is set. Listening beyond
loopback is warned about: put TLS in front of it.`,
		Example: `  orgdb serve
  orgdb serve --addr 127.0.0.1:8787 --static ../agent-ops/packages/client/dist
  orgdb serve --log-format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(e.stderr, logFormat)
			if err != nil {
				return err
			}
			if static != "" {
				if fi, err := os.Stat(static); err != nil || !fi.IsDir() {
					return fmt.Errorf("--static %s: not a directory; give the web client's build directory (its dist/)", show(static))
				}
			}
			return serve(cmd.Context(), e, log, addr, static)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", DefaultAddr, "the `host:port` to listen on")
	cmd.Flags().StringVar(&static, "static", "", "serve a built web client from `DIR` (index.html for unknown paths)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "the log `format`: text or json")
	return cmd
}

// newLogger is the server's log on w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usageError(fmt.Sprintf("--log-format %s: want text or json", show(format)))
}

// serve runs the server until ctx is cancelled, then shuts it down,
// letting the requests in flight finish.
func serve(ctx context.Context, e *env, log *slog.Logger, addr, static string) error {
	var opts []store.Option
	if e.getenv(seal.EnvVar) != "" {
		key, err := seal.KeyFromEnv(e.getenv)
		if err != nil {
			return err
		}
		opts = append(opts, store.WithSealingKey(key))
	}
	st, err := e.open(ctx, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
	auth, err := apitoken.NewAuthenticator(ctx, st, log)
	if err != nil {
		return err
	}
	defer auth.Close()
	api := httpapi.New(st, auth, httpapi.WithLogger(log))
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	if static != "" {
		mux.Handle("/", httpapi.SPA(os.DirFS(static)))
	}
	srv := &http.Server{
		Handler:           httpapi.AccessLog(log, mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	bound := ln.Addr().(*net.TCPAddr)
	if !bound.IP.IsLoopback() {
		log.Warn("orgdb serve: the address is not loopback: tokens and keys cross the network in clear unless TLS is in front (a reverse proxy); use --addr 127.0.0.1:PORT to keep it local", "addr", bound.String())
	}
	role := "primary"
	if r := st.Role(); r.LiteFS && !r.Primary {
		role = "replica"
	}
	log.Info("orgdb serve: listening", "addr", bound.String(), "version", versionString(), "db", e.where(), "static", static, "role", role)
	// Said once the listener is closed (net/http runs it then): from here
	// no new connection is accepted.
	said := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		log.Info("orgdb serve: shutting down: finishing the requests in flight")
		close(said)
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	<-said
	log.Info("orgdb serve: stopped")
	return nil
}
