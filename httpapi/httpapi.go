// Package httpapi is the agent-ops service's admin API over a
// [store.Store]: the routes the web client's admin settings page calls
// (base /api), on net/http's method and path patterns.
//
// Each handler authenticates the request with the [Authenticator] the
// embedding service supplies (orgdb serve gives package apitoken's), checks
// that the user may (an admin, for every /api/admin route), decodes the body
// strictly (unknown fields, trailing data and bodies over 1 MiB refused),
// calls one store method with the request's user as the actor, and encodes
// the result as the web client reads it. Every error goes through one
// function, [WriteError]: the [orgdb.Error]'s code gives the status and its
// JSON the body ({error, code, details}); an internal error's details stay
// in the log.
//
// GET /api/admin and GET /api/admin/users keep their encoded bodies until
// anything commits on the database, by this process or another
// ([store.Cached]): while nothing changes, a request costs its
// authentication and one PRAGMA data_version, read once per request
// ([store.WithOneGeneration]) for the authenticator and the body alike.
//
// It imports store and gen/db, never a concrete authenticator.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/store"
)

// Authenticator tells who sent a request: the id of a user of the
// organization, or an error, usually UNAUTHORIZED (an *orgdb.Error with
// CodeUnauthorized), which the client answers by logging in again. The
// embedding service supplies it (the original used OAuth sessions);
// apitoken.Authenticator is orgdb's own.
type Authenticator interface {
	Authenticate(r *http.Request) (userID string, err error)
}

// RoleAuthenticator is an [Authenticator] that reads the user's role with
// the user (apitoken.Authenticator does, in one statement): an admin
// route then checks its rule with that role instead of a read of its own.
// A write decides again in its own transaction whatever the role said.
type RoleAuthenticator interface {
	Authenticator
	AuthenticateRole(r *http.Request) (userID string, role orgdb.UserRole, err error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(r *http.Request) (string, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (string, error) { return f(r) }

// MaxBodyBytes bounds a request body: 1 MiB.
const MaxBodyBytes = 1 << 20

// Route is one route of the API: a method and a net/http path pattern.
type Route struct {
	Method  string
	Pattern string
}

// String is the route as net/http writes a pattern: "GET /api/admin".
func (r Route) String() string { return r.Method + " " + r.Pattern }

// Handler is the API's http.Handler. Mount it at /api/ (it matches full
// paths). It is safe for concurrent use.
type Handler struct {
	st     *store.Store
	auth   Authenticator
	log    *slog.Logger
	mux    *http.ServeMux
	routes []Route

	// The bodies of GET /api/admin and GET /api/admin/users, kept until
	// anything commits on the database (store.Cached).
	settings, users *store.Cached[jsonBody]
}

// Option configures [New].
type Option func(*Handler)

// WithLogger sets where internal errors (status 500) are logged, with
// their cause; the default discards them. The access log is [AccessLog]'s.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// endpoint is one route and its handler.
type endpoint struct {
	Route
	serve func(w http.ResponseWriter, r *http.Request, who caller) error
}

// New returns the API over st, authenticating requests with auth.
func New(st *store.Store, auth Authenticator, opts ...Option) *Handler {
	h := &Handler{st: st, auth: auth, log: slog.New(slog.DiscardHandler), mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	h.settings = store.NewCached(st, func(ctx context.Context) (jsonBody, error) {
		o, err := st.GetOrgSettings(ctx)
		if err != nil {
			return nil, err
		}
		return encode(o)
	})
	h.users = store.NewCached(st, func(ctx context.Context) (jsonBody, error) {
		// The array is built by SQLite in one statement (ListUsersJSON):
		// no per-row work here. TestUsersJSON holds it to db.User's JSON.
		s, err := store.ReadTxV(ctx, st, func(q *db.Queries) (string, error) { return q.ListUsersJSON(ctx) })
		if err != nil {
			return nil, err
		}
		return jsonBody(s + "\n"), nil
	})
	eps := h.endpoints()
	allow := map[string][]string{} // pattern → methods
	for _, ep := range eps {
		h.routes = append(h.routes, ep.Route)
		h.mux.Handle(ep.String(), h.wrap(ep.serve))
		if !slices.Contains(allow[ep.Pattern], ep.Method) {
			allow[ep.Pattern] = append(allow[ep.Pattern], ep.Method)
		}
	}
	// The same path with another method: 405 with Allow, as JSON.
	for pattern, methods := range allow {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead) // net/http's GET patterns match HEAD
		}
		slices.Sort(methods)
		list := strings.Join(methods, ", ")
		h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", list)
			WriteError(w, r, h.log, orgdb.Wrap(orgdb.CodeValidation, nil, "method %s is not allowed here: use %s", r.Method, list).
				WithReason(ReasonMethodNotAllowed))
		})
	}
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, h.log, orgdb.NotFound("no API route %s %s", r.Method, r.URL.Path).WithReason(ReasonNoRoute))
	})
	return h
}

// Reasons of the HTTP layer's own errors, in orgdb.Error.Reason.
const (
	ReasonMethodNotAllowed = "method_not_allowed" // 405
	ReasonNoRoute          = "no_route"           // 404: no such API path
	ReasonBadBody          = "bad_body"           // 400: not one JSON object of the expected fields
	ReasonBodyTooLarge     = "body_too_large"     // 413
)

// Routes lists the API's routes, in registration order: exactly the
// patterns New registered.
func (h *Handler) Routes() []Route { return slices.Clone(h.routes) }

// ServeHTTP serves the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd["Cache-Control"] = noStore
	hd["X-Content-Type-Options"] = noSniff
	h.mux.ServeHTTP(w, r)
}

// Header values every response carries, set without allocating (what
// Header.Set does, less the new slice); net/http only reads them, and
// Header.Add or Set replaces the slice rather than writing into it.
var (
	noStore         = []string{"no-store"}
	noSniff         = []string{"nosniff"}
	applicationJSON = []string{"application/json"}
)

// wrap authenticates the request, records the user for the access log,
// and writes serve's error.
func (h *Handler) wrap(serve func(w http.ResponseWriter, r *http.Request, who caller) error) http.Handler {
	ra, _ := h.auth.(RoleAuthenticator)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The authentication and a cached read check the database for
		// commits once between them (store.Generation).
		r = r.WithContext(store.WithOneGeneration(r.Context(), h.st))
		var who caller
		var err error
		if ra != nil {
			who.id, who.role, err = ra.AuthenticateRole(r)
		} else {
			who.id, err = h.auth.Authenticate(r)
		}
		if err == nil && who.id == "" {
			err = orgdb.Unauthorized("Authentication required")
		}
		if err == nil {
			setUser(r.Context(), who.id)
			err = serve(w, r, who)
		}
		if err != nil {
			WriteError(w, r, h.log, err)
		}
	})
}

// caller is the authenticated user: their id, and their role if the
// authenticator read it ("" otherwise).
type caller struct {
	id   string
	role orgdb.UserRole
}

// WriteError writes err as the service's error response: the status of its
// code (an error that is not an *orgdb.Error is INTERNAL_ERROR, 500) and
// the body {error, code, details}. UNAUTHORIZED carries
// WWW-Authenticate: Bearer. A 5xx is logged to log with its cause; the
// client reads only "internal error".
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *orgdb.Error
	if !errors.As(err, &e) {
		e = orgdb.Internal(err, "%s %s", r.Method, r.URL.Path)
	}
	status := e.HTTPStatus()
	switch e.Reason {
	case ReasonMethodNotAllowed:
		status = http.StatusMethodNotAllowed
	case ReasonBodyTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgdb"`)
	}
	if status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "orgdb: request failed", "method", r.Method, "path", r.URL.Path, "error", e)
	}
	writeJSON(w, status, e)
}

// jsonBody is a whole response body, JSON and its newline, written as it
// is. It may be shared (a cached body): never modified.
type jsonBody []byte

// encode is v's JSON as a response body.
func encode(v any) (jsonBody, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// internalBody is the body written when a response cannot be encoded.
var internalBody = jsonBody(`{"error":"internal error","code":"INTERNAL_ERROR"}` + "\n")

// writeJSON writes v as JSON with status; a jsonBody as it is.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, ok := v.(jsonBody)
	if !ok {
		var err error
		if b, err = encode(v); err != nil {
			status, b = http.StatusInternalServerError, internalBody
		}
	}
	hd := w.Header()
	hd["Content-Type"] = applicationJSON
	hd["Content-Length"] = []string{strconv.Itoa(len(b))} // not chunked
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client gone is not ours to report
}

// ok is the body of a change the client reads no result of.
var ok = struct {
	OK bool `json:"ok"`
}{true}

// decode reads the request body into v strictly: one JSON object, of v's
// fields only, at most MaxBodyBytes. Errors are VALIDATION_ERROR (reason
// bad_body, details.field naming the field when there is one) or 413.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return orgdb.Validation("the request body is larger than %d bytes", MaxBodyBytes).WithReason(ReasonBodyTooLarge)
	}
	if err != nil {
		return orgdb.Validation("could not read the request body").WithReason(ReasonBadBody)
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return orgdb.Validation("the request body must be a JSON object").WithReason(ReasonBadBody)
	}
	if err := exactKeys(b, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return orgdb.Validation("the request body has data after its JSON object").WithReason(ReasonBadBody)
	}
	return nil
}

// exactKeys refuses a key of the body's object that is not exactly the
// name of one of v's fields (encoding/json would take "Name" for "name").
func exactKeys(b []byte, v any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return bodyError(err)
	}
	names := map[string]bool{}
	var collect func(t reflect.Type)
	collect = func(t reflect.Type) {
		for f := range t.Fields() {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				collect(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "-" && f.IsExported() {
				if name == "" {
					name = f.Name
				}
				names[name] = true
			}
		}
	}
	collect(reflect.TypeOf(v).Elem())
	for k := range obj {
		if !names[k] {
			return orgdb.Validation("unknown field %q in the request body", k).WithDetails("field", k).WithReason(ReasonBadBody)
		}
	}
	return nil
}

// bodyError turns a JSON decoding error into a VALIDATION_ERROR that names
// the field, never repeating the value (it may be a key).
func bodyError(err error) error {
	var oe *orgdb.Error
	if errors.As(err, &oe) { // a field type's own refusal (a role, an email list)
		return oe.WithReason(ReasonBadBody)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return orgdb.Validation("field %s: want a JSON %s", te.Field, jsonKind(te.Type.Kind().String())).
			WithDetails("field", te.Field).WithReason(ReasonBadBody)
	}
	if name, found := strings.CutPrefix(err.Error(), "json: unknown field "); found {
		name = strings.Trim(name, `"`)
		return orgdb.Validation("unknown field %q in the request body", name).WithDetails("field", name).WithReason(ReasonBadBody)
	}
	return orgdb.Validation("the request body is not valid JSON").WithReason(ReasonBadBody)
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch k {
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// admin refuses a user who is not an admin (403 "Admin access required")
// before a route reads or decodes anything: with the role the
// authenticator read, else with a read of the store's rule. A write
// decides again in its own transaction.
func (h *Handler) admin(ctx context.Context, who caller) error {
	switch who.role {
	case orgdb.RoleAdmin:
		return nil
	case "":
		return h.st.Authorize(ctx, store.ByUser(who.id), store.AdminOnly)
	}
	return orgdb.Forbidden("Admin access required").WithReason(store.ReasonAdminRequired)
}

// read serves an admin route that only reads.
func read[T any](h *Handler, get func(ctx context.Context) (T, error)) func(http.ResponseWriter, *http.Request, caller) error {
	return func(w http.ResponseWriter, r *http.Request, who caller) error {
		if err := h.admin(r.Context(), who); err != nil {
			return err
		}
		v, err := get(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// write serves an admin route that changes something: the body (if the
// route has one, B is not struct{}) decoded into B, then do with the
// request's user as the actor; its result is written with status.
func write[B, T any](h *Handler, status int, do func(r *http.Request, by store.Actor, body B) (T, error)) func(http.ResponseWriter, *http.Request, caller) error {
	return func(w http.ResponseWriter, r *http.Request, who caller) error {
		if err := h.admin(r.Context(), who); err != nil {
			return err
		}
		var body B
		if _, none := any(body).(struct{}); !none {
			if err := decode(w, r, &body); err != nil {
				return err
			}
		}
		v, err := do(r, store.ByUser(who.id), body)
		if err != nil {
			return err
		}
		writeJSON(w, status, v)
		return nil
	}
}

// roleBody is the body of PATCH /api/admin/users/{id}.
type roleBody struct {
	Role orgdb.UserRole `json:"role"`
}

// Me is the answer of GET /api/auth/me.
type Me struct {
	User      db.User   `json:"user"`
	Providers Providers `json:"providers"`
}

// Providers says which OAuth providers the user has connected: orgdb
// knows none (its users authenticate with API tokens), so both are false.
type Providers struct {
	GitHub bool `json:"github"`
	Google bool `json:"google"`
}

// endpoints is the route table: every route, with its handler.
func (h *Handler) endpoints() []endpoint {
	st := h.st
	return []endpoint{
		{Route{"GET", "/api/admin"}, read(h, h.settings.Get)},
		{Route{"PUT", "/api/admin"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, p store.OrgSettingsPatch) (db.OrgSettings, error) {
			return st.UpdateOrgSettings(r.Context(), by, p)
		})},
		{Route{"GET", "/api/admin/llm-keys"}, read(h, st.ListOrgAPIKeyViews)},
		{Route{"PUT", "/api/admin/llm-keys/{provider}"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, in store.OrgAPIKeyInput) (any, error) {
			_, err := st.SetOrgAPIKey(r.Context(), by, orgdb.Provider(r.PathValue("provider")), in.Key)
			return ok, err
		})},
		{Route{"DELETE", "/api/admin/llm-keys/{provider}"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, _ struct{}) (any, error) {
			return ok, st.DeleteOrgAPIKey(r.Context(), by, orgdb.Provider(r.PathValue("provider")))
		})},
		{Route{"GET", "/api/admin/invites"}, read(h, func(ctx context.Context) ([]db.ListInvitesRow, error) {
			return all(st.AllInvites(ctx))
		})},
		{Route{"POST", "/api/admin/invites"}, write(h, http.StatusCreated, func(r *http.Request, by store.Actor, in store.NewInvite) (db.Invite, error) {
			return st.CreateInvite(r.Context(), by, in)
		})},
		{Route{"DELETE", "/api/admin/invites/{id}"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, _ struct{}) (any, error) {
			return ok, st.DeleteInvite(r.Context(), by, r.PathValue("id"))
		})},
		{Route{"GET", "/api/admin/users"}, read(h, h.users.Get)},
		{Route{"PATCH", "/api/admin/users/{id}"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, in roleBody) (any, error) {
			if in.Role == "" {
				return nil, orgdb.Validation("role is required: admin or member").WithDetails("field", "role")
			}
			_, err := st.UpdateUserRole(r.Context(), by, r.PathValue("id"), in.Role)
			return ok, err
		})},
		{Route{"DELETE", "/api/admin/users/{id}"}, write(h, http.StatusOK, func(r *http.Request, by store.Actor, _ struct{}) (any, error) {
			// The page has no way to reassign what the user owns: their
			// invites, org keys and org integrations move to the admin
			// who removes them.
			return ok, st.DeleteUser(r.Context(), by, r.PathValue("id"), store.DeleteUserOptions{ReassignToActor: true})
		})},
		{Route{"GET", "/api/auth/me"}, func(w http.ResponseWriter, r *http.Request, who caller) error {
			u, err := st.GetUser(r.Context(), who.id)
			if errors.Is(err, orgdb.ErrNotFound) { // deleted since the token was checked
				return orgdb.Unauthorized("the user of this token no longer exists")
			}
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, Me{User: u})
			return nil
		}},
	}
}

// all collects an iterator's rows, never nil (the client reads []).
func all[T any](seq func(yield func(T, error) bool)) ([]T, error) {
	out := []T{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
