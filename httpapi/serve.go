package httpapi

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// requestInfo is what a handler tells the access log: the user it
// authenticated.
type requestInfo struct{ userID string }

type infoKey struct{}

// setUser records the authenticated user for the access log, if one is
// being written.
func setUser(ctx context.Context, uid string) {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		ri.userID = uid
	}
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AccessLog logs one line per request to log, at Info: method, path (never
// the query string), status, duration and the authenticated user's id.
// It never logs a header or a body, so neither a token nor a key reaches
// the log.
func AccessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("user", ri.userID),
		)
	})
}

// SPA serves a built single-page web client from fsys: a file that exists
// is served as it is; any other path (a client-side route such as
// /settings/admin, or a file the build lacks) gets index.html, so the
// client's router decides. Mount it at "/" beside the API at "/api/".
func SPA(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if fi, err := fs.Stat(fsys, name); err == nil && (!fi.IsDir() || exists(fsys, path.Join(name, "index.html"))) {
			files.ServeHTTP(w, r)
			return
		}
		http.ServeFileFS(w, r, fsys, "index.html")
	})
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}
