// Package apitoken is orgdb's own authentication for the HTTP API: bearer
// tokens that the operator issues to a user of the organization
// (`orgdb tokens create`), stored in the api_tokens table.
//
// A token is "orgdb_" followed by 256 random bits (base64url). It is shown
// once, when it is created, and never stored: the table holds its SHA-256
// (hex), looked up through a unique index and compared in constant time,
// and its first characters (the prefix), which name it in a list. A token
// authenticates its user only while it is neither revoked nor expired and
// the user exists: deleting the user deletes their tokens, and a demoted
// user's token still authenticates them, but as the member they now are
// (the store reads the role in every write's transaction).
//
// Every write goes through [store.Store.Tx] with its rule: creating a token
// is the operator's ([store.OperatorOnly]), revoking one an admin's or the
// operator's ([store.AdminOrOperator]), and recording a use
// ([Authenticator]) the service's own, as the operator, at most once a
// minute per token in one guarded UPDATE.
//
// It imports store and gen/db; nothing below the store imports it. Package
// httpapi uses an [Authenticator] through its own interface.
package apitoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
	"github.com/agentops/orgdb/store"
)

// Scheme is the start of every token: it tells an orgdb token apart from
// other secrets (a secret scanner can match it) and is part of the prefix.
const Scheme = "orgdb_"

// secretBytes is the token's randomness: 256 bits.
const secretBytes = 32

// tokenLen is the length of a token: the scheme and 43 base64url
// characters.
var tokenLen = len(Scheme) + base64.RawURLEncoding.EncodedLen(secretBytes)

// prefixLen is how much of a token is stored and listed to name it: the
// scheme and 6 characters (36 of its 256 bits).
const prefixLen = len(Scheme) + 6

// TouchInterval is how often, at most, a token's last_used_at is written.
const TouchInterval = time.Minute

// Reasons of this package's errors, in orgdb.Error.Reason.
const (
	ReasonNoToken      = "no_token"      // UNAUTHORIZED: no Authorization: Bearer header
	ReasonBadToken     = "bad_token"     // UNAUTHORIZED: unknown, revoked or expired token
	ReasonTokenRevoked = "token_revoked" // CONFLICT: Revoke of a revoked token
)

// NewToken is a token to create.
type NewToken struct {
	// UserID is the user the token authenticates.
	UserID string
	// Name says what the token is for ("web client", "ci"); it may be
	// empty; one line, at most 200 characters.
	Name string
	// ExpiresAt, if not zero, is when the token stops working; it must be
	// in the future.
	ExpiresAt time.Time
}

// Token is what may be shown of a token: never the token, nor its hash.
type Token struct {
	ID        string      `json:"id"`
	UserID    string      `json:"userId"`
	Name      string      `json:"name"`
	Prefix    string      `json:"prefix"`
	CreatedAt orgdb.Time  `json:"createdAt"`
	ExpiresAt *orgdb.Time `json:"expiresAt,omitempty"`
}

// Created is a token just created: what may be shown of it, and the token
// itself, which is shown to the operator once and never again. Secret
// prints and encodes as [seal.Redacted]; Secret.Reveal() gives the token.
type Created struct {
	Token  Token
	Secret seal.Secret
}

// hash is the stored form of a token: its SHA-256, in lower-case hex.
func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// Create makes a token for in.UserID on behalf of by, who must be the
// operator, and returns it with its secret. Errors: VALIDATION_ERROR
// (name, expiry), UNAUTHORIZED, FORBIDDEN (operator_required for a user),
// NOT_FOUND (no such user), INTERNAL_ERROR.
func Create(ctx context.Context, st *store.Store, by store.Actor, in NewToken) (Created, error) {
	if strings.TrimSpace(in.UserID) == "" {
		return Created{}, orgdb.Validation("user id is required").WithDetails("field", "userId")
	}
	name := strings.TrimSpace(in.Name)
	if err := checkName(name); err != nil {
		return Created{}, err
	}
	now := st.Now()
	var expires *orgdb.Time
	if !in.ExpiresAt.IsZero() {
		if !in.ExpiresAt.After(now.Time) {
			return Created{}, orgdb.Validation("the expiry %s is not in the future", in.ExpiresAt.UTC().Format(time.RFC3339)).
				WithDetails("field", "expiresAt")
		}
		e := orgdb.NewTime(in.ExpiresAt)
		expires = &e
	}
	var raw [secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Created{}, orgdb.Internal(err, "create API token: read random bytes")
	}
	token := Scheme + base64.RawURLEncoding.EncodeToString(raw[:])
	row, err := store.TxV(ctx, st, by, store.OperatorOnly, func(q *db.Queries) (db.APIToken, error) {
		if _, err := q.GetUser(ctx, in.UserID); err != nil {
			return db.APIToken{}, store.Translate(err, "user")
		}
		return q.InsertAPIToken(ctx, db.InsertAPITokenParams{
			ID: orgdb.NewID(), UserID: in.UserID, Name: name, TokenHash: hash(token),
			Prefix: token[:prefixLen], CreatedAt: now, ExpiresAt: expires,
		})
	})
	if err != nil {
		return Created{}, err
	}
	return Created{
		Token:  Token{ID: row.ID, UserID: row.UserID, Name: row.Name, Prefix: row.Prefix, CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt},
		Secret: seal.NewSecret(token),
	}, nil
}

// checkName refuses a name that is not one line of printable text of at
// most 200 characters.
func checkName(name string) error {
	if utf8.RuneCountInString(name) > 200 {
		return orgdb.Validation("token name must be at most 200 characters").WithDetails("field", "name")
	}
	for _, r := range name {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return orgdb.Validation("token name must be one line of printable text").WithDetails("field", "name")
		}
	}
	return nil
}

// List returns every token, oldest first, with its user's email; never a
// hash or a secret. Errors: INTERNAL_ERROR.
func List(ctx context.Context, st *store.Store) ([]db.ListAPITokensRow, error) {
	return store.ReadTxV(ctx, st, func(q *db.Queries) ([]db.ListAPITokensRow, error) {
		return q.ListAPITokens(ctx)
	})
}

// Revoke revokes the token with this id on behalf of by, an admin or the
// operator: from the moment it commits, the token authenticates nobody.
// Errors: VALIDATION_ERROR (empty id), UNAUTHORIZED, FORBIDDEN
// (admin_required), NOT_FOUND, CONFLICT (token_revoked), INTERNAL_ERROR.
func Revoke(ctx context.Context, st *store.Store, by store.Actor, id string) error {
	if strings.TrimSpace(id) == "" {
		return orgdb.Validation("token id is required").WithDetails("field", "id")
	}
	return st.Tx(ctx, by, store.AdminOrOperator, func(q *db.Queries) error {
		now := st.Now()
		n, err := q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{Now: &now, ID: id})
		if err != nil || n > 0 {
			return err
		}
		if _, err := q.GetAPIToken(ctx, id); err != nil {
			return store.Translate(err, "API token")
		}
		return orgdb.Conflict("the token is revoked already").WithReason(ReasonTokenRevoked)
	})
}

// Authenticator authenticates a request by its bearer token: it is the
// authenticator `orgdb serve` gives package httpapi. It is safe for
// concurrent use. Close it before the store.
//
// It keeps the rows it looked up until anything commits on the database
// (store.Store.Generation: one PRAGMA per request), so a revoked token, a
// deleted user or a demotion, by this process or another (the CLI), takes
// effect on the next request; expiry is checked against the clock on
// every request.
type Authenticator struct {
	st    *store.Store
	q     *db.Queries // prepared on the store's read pool
	log   *slog.Logger
	cache tokenCache
}

// tokenCache holds the rows of the tokens looked up in one generation of
// the database; a newer generation empties it.
type tokenCache struct {
	mu   sync.RWMutex
	gen  uint64
	rows map[string]db.GetAPITokenByHashRow // by hash
}

// maxCachedTokens bounds the cache: past it, it starts again empty.
const maxCachedTokens = 4096

func (c *tokenCache) get(gen uint64, h string) (db.GetAPITokenByHashRow, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return db.GetAPITokenByHashRow{}, false
	}
	row, ok := c.rows[h]
	return row, ok
}

// put stores a row read after generation gen was read.
func (c *tokenCache) put(gen uint64, h string, row db.GetAPITokenByHashRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return // read before a commit a newer lookup saw
	}
	if gen > c.gen || c.rows == nil || len(c.rows) >= maxCachedTokens {
		c.gen, c.rows = gen, make(map[string]db.GetAPITokenByHashRow)
	}
	c.rows[h] = row
}

// drop forgets the rows of generation gen (a token's use was recorded).
func (c *tokenCache) drop(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.rows = nil
	}
}

// NewAuthenticator returns the token authenticator over st. Its lookup is
// one prepared statement on the store's read-only pool, without a
// transaction (one statement reads one snapshot). log receives a failure
// to record a token's last use (the request is served anyway); nil
// discards it. Errors: INTERNAL_ERROR (preparing the queries).
func NewAuthenticator(ctx context.Context, st *store.Store, log *slog.Logger) (*Authenticator, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q, err := db.Prepare(ctx, st.ReadDB())
	if err != nil {
		return nil, store.Translate(err, "API token queries")
	}
	return &Authenticator{st: st, q: q, log: log}, nil
}

// Close releases the prepared statements.
func (a *Authenticator) Close() error { return store.Translate(a.q.Close(), "API token queries") }

// errNoToken and errBadToken are the refusals: the client logs in again.
var (
	errNoToken = orgdb.Unauthorized("Authentication required: send the header Authorization: Bearer TOKEN").
			WithReason(ReasonNoToken)
	errBadToken = orgdb.Unauthorized("Invalid, expired or revoked token: ask the operator for a new one (orgdb tokens create)").
			WithReason(ReasonBadToken)
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive), or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// Authenticate returns the id of the user whose token the request
// carries. Errors: UNAUTHORIZED (no_token, bad_token: unknown, revoked or
// expired, or its user deleted), INTERNAL_ERROR. The error never contains
// the token.
func (a *Authenticator) Authenticate(r *http.Request) (string, error) {
	uid, _, err := a.AuthenticateRole(r)
	return uid, err
}

// AuthenticateRole is Authenticate that also returns the user's role, read
// with the token in one statement (httpapi checks an admin route's rule
// with it rather than with a read of its own).
func (a *Authenticator) AuthenticateRole(r *http.Request) (string, orgdb.UserRole, error) {
	token := BearerToken(r)
	if token == "" {
		return "", "", errNoToken
	}
	if len(token) != tokenLen || !strings.HasPrefix(token, Scheme) {
		return "", "", errBadToken
	}
	ctx := r.Context()
	h := hash(token)
	now := a.st.Now()
	// The generation is read before the row: a row read after it is at
	// least as new, and stays current while the generation does.
	gen, err := a.st.Generation(ctx)
	if err != nil {
		return "", "", err
	}
	row, cached := a.cache.get(gen, h)
	if !cached {
		row, err = a.q.GetAPITokenByHash(ctx, db.GetAPITokenByHashParams{TokenHash: h, Now: &now})
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", errBadToken
		}
		if err != nil {
			return "", "", store.Translate(err, "API token")
		}
		a.cache.put(gen, h, row)
	}
	// The query's expiry test, again for a cached row: the same TEXT
	// comparison SQLite made.
	if row.ExpiresText != "" && row.ExpiresText <= now.UTC().Format(orgdb.TimeLayout) { // as the column stores times
		return "", "", errBadToken
	}
	if subtle.ConstantTimeCompare([]byte(row.TokenHash), []byte(h)) != 1 || row.Role == "" {
		return "", "", errBadToken // row.Role "": the user is gone
	}
	if row.LastUsedAt == nil || now.Sub(row.LastUsedAt.Time) >= TouchInterval {
		a.touch(ctx, row.ID, now)
		a.cache.drop(gen) // its commit ends the generation anyway
	}
	return row.UserID, orgdb.UserRole(row.Role), nil
}

// touch records a use of the token, unless one was recorded within
// TouchInterval (the guard is in the UPDATE, so of concurrent requests one
// writes). A failure is logged, not returned: the request is served. On a
// LiteFS replica the write is refused (NOT_PRIMARY) and skipped.
func (a *Authenticator) touch(ctx context.Context, id string, now orgdb.Time) {
	stale := now.Add(-TouchInterval).UTC().Format(orgdb.TimeLayout) // as the column stores times
	err := a.st.Tx(ctx, store.Operator("API token last use"), store.OperatorOnly, func(q *db.Queries) error {
		_, err := q.TouchAPIToken(ctx, db.TouchAPITokenParams{Now: &now, ID: id, StaleBefore: stale})
		return err
	})
	if err != nil && !errors.Is(err, orgdb.ErrNotPrimary) {
		a.log.Warn("orgdb: could not record the last use of an API token", "tokenId", id, "error", err)
	}
}
