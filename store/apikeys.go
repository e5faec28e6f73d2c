package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentops/orgdb"
	"github.com/agentops/orgdb/gen/db"
	"github.com/agentops/orgdb/seal"
)

// maxAPIKeyLen bounds a provider API key; real ones are well under 1 KiB.
const maxAPIKeyLen = 4096

// OrgAPIKeyView is what the settings page shows of a stored provider key,
// the web client's OrgApiKey: never the key, sealed or not. There is a view
// only for a provider whose key is stored (as in the original service), so
// every field is set; a provider missing from [Store.ListOrgAPIKeyViews]
// has no org key.
type OrgAPIKeyView struct {
	// ID is the id of the org_api_keys row.
	ID       string         `json:"id"`
	Provider orgdb.Provider `json:"provider"`
	// IsSet is always true: the client's OrgApiKey carries it.
	IsSet bool `json:"isSet"`
	// SetBy is the id of the admin who stored the key.
	SetBy     string     `json:"setBy"`
	CreatedAt orgdb.Time `json:"createdAt"`
	UpdatedAt orgdb.Time `json:"updatedAt"`
	// SealedWith is the id of the sealing key the stored key is sealed
	// with (a fingerprint, not the key).
	SealedWith string `json:"sealedWith,omitempty"`
}

// OrgAPIKeyInput is the body of PUT /api/admin/llm-keys/:provider, the web
// client's { key: string }. The key decodes into a [seal.Secret], so the
// decoded body prints and encodes as [seal.Redacted]; pass it to
// [Store.SetOrgAPIKey].
type OrgAPIKeyInput struct {
	Key seal.Secret `json:"key"`
}

func (s *Store) sealingKey() (seal.Key, error) {
	if s.key.IsZero() {
		return seal.Key{}, orgdb.Encryption(nil, "no sealing key is configured on the service: org API keys cannot be set or read").
			WithInternalMessage("no sealing key configured: set %s and open the store WithSealingKey", seal.EnvVar).
			WithReason(seal.ReasonBadKey)
	}
	return s.key, nil
}

// checkAPIKey returns the provider key to seal: key without the
// whitespace around it (a pasted or piped key ends in a newline). It must
// be 1–maxAPIKeyLen bytes of one token: whitespace, control or format
// characters (a line break, a tab, NUL, a zero-width space) or invalid
// UTF-8 inside it mean it is not one key, such as two lines piped in, and
// no provider key has them (sk-…, sk-ant-…, AIza…, and base64-like
// tokens with - _ + / = are all printable ASCII). The error is a
// VALIDATION_ERROR on the key field; its message says what is wrong and
// where, never the key.
func checkAPIKey(provider orgdb.Provider, key seal.Secret) (string, error) {
	plain := strings.TrimSpace(key.Reveal())
	if plain == "" || len(plain) > maxAPIKeyLen {
		return "", orgdb.Validation("%s API key must be 1–%d characters", provider, maxAPIKeyLen).WithDetails("field", "key")
	}
	n := 0 // r is character n of plain, from 1
	for i, r := range plain {
		what := ""
		switch _, size := utf8.DecodeRuneInString(plain[i:]); {
		case r == '\n' || r == '\r':
			what = "a line break"
		case r == '\t':
			what = "a tab"
		case r == utf8.RuneError && size == 1:
			what = "a byte that is not UTF-8"
		case unicode.IsSpace(r):
			what = "a space"
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			what = fmt.Sprintf("the invisible character U+%04X", r)
		}
		n++
		if what != "" {
			return "", orgdb.Validation("%s API key has %s at character %d; a key is one token with no spaces or control characters: "+
				"pass the key alone, on one line, and try again; nothing stored", provider, what, n).WithDetails("field", "key")
		}
	}
	return plain, nil
}

// SetOrgAPIKey seals and stores the organization's key for a provider, on
// behalf of by, an admin, who is recorded as set_by. There is one row per
// provider: setting it again replaces the key and refreshes set_by and
// updated_at. The key is trimmed and must not be empty, nor have whitespace
// or control characters inside it (two lines piped in are not a key).
// Errors: VALIDATION_ERROR (provider, key), ENCRYPTION_ERROR (no sealing
// key), UNAUTHORIZED (no or unknown actor), FORBIDDEN, INTERNAL_ERROR.
func (s *Store) SetOrgAPIKey(ctx context.Context, by Actor, provider orgdb.Provider, key seal.Secret) (OrgAPIKeyView, error) {
	if _, err := orgdb.ParseProvider(string(provider)); err != nil {
		return OrgAPIKeyView{}, err
	}
	plain, err := checkAPIKey(provider, key)
	if err != nil {
		return OrgAPIKeyView{}, err
	}
	k, err := s.sealingKey()
	if err != nil {
		return OrgAPIKeyView{}, err
	}
	sealed, err := k.Seal(provider, seal.NewSecret(plain))
	if err != nil {
		return OrgAPIKeyView{}, err
	}
	row, err := writeTx(ctx, s, by, AdminOnly, func(t wtx) (db.OrgAPIKey, error) {
		// Keys still under the fixed salt move to the database's salt
		// first, in this transaction: the new value is never sealed
		// with the fixed salt, and every stored value shares one key.
		if !s.legacy.IsZero() {
			n, err := reseal(ctx, t, s.legacy, k)
			if err != nil {
				return db.OrgAPIKey{}, err
			}
			if n > 0 {
				s.log.Info("orgdb: re-sealed the org API keys under this database's own salt", "count", n, "sealingKeyId", k.ID())
			}
		}
		row, err := t.q.UpsertOrgAPIKey(ctx, db.UpsertOrgAPIKeyParams{
			ID: orgdb.NewID(), Provider: provider, EncryptedKey: sealed, SetBy: t.actorID, Now: t.now,
		})
		if err != nil {
			return db.OrgAPIKey{}, sealedUnderOtherKey(ctx, t.q, k, err)
		}
		return row, nil
	})
	if err != nil {
		return OrgAPIKeyView{}, err
	}
	return OrgAPIKeyView{ID: row.ID, Provider: row.Provider, IsSet: true, SetBy: row.SetBy, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, SealedWith: k.ID()}, nil
}

// ListOrgAPIKeyViews returns a view of each stored key, in orgdb.Providers
// order; a provider without a stored key is left out, as the original
// service's GET /api/admin/llm-keys did (the web client shows a provider
// missing from the list as not set). The list is empty, not nil, when no
// key is stored. It never reads the sealed values. Errors: INTERNAL_ERROR.
func (s *Store) ListOrgAPIKeyViews(ctx context.Context) ([]OrgAPIKeyView, error) {
	rows, err := s.rq.ListOrgAPIKeys(ctx)
	if err != nil {
		return nil, Translate(err, "org API keys")
	}
	views := []OrgAPIKeyView{}
	for _, p := range orgdb.Providers() {
		for _, r := range rows {
			if r.Provider == p {
				views = append(views, OrgAPIKeyView{ID: r.ID, Provider: p, IsSet: true, SetBy: r.SetBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SealedWith: r.SealedWith})
			}
		}
	}
	return views, nil
}

// OpenOrgAPIKey unseals and returns the organization's key for a
// provider, for starting a session and nothing else. Errors:
// VALIDATION_ERROR (provider), NOT_FOUND (no key set), ENCRYPTION_ERROR (no
// sealing key, or the key does not open with it), INTERNAL_ERROR.
func (s *Store) OpenOrgAPIKey(ctx context.Context, provider orgdb.Provider) (seal.Secret, error) {
	if _, err := orgdb.ParseProvider(string(provider)); err != nil {
		return seal.Secret{}, err
	}
	row, err := s.rq.GetOrgAPIKey(ctx, provider)
	if err != nil {
		return seal.Secret{}, Translate(err, string(provider)+" API key")
	}
	if _, err := s.sealingKey(); err != nil {
		return seal.Secret{}, err
	}
	return s.opener(row.EncryptedKey).Open(provider, row.EncryptedKey)
}

// DeleteOrgAPIKey removes the organization's key for a provider, on
// behalf of by, an admin. Errors: VALIDATION_ERROR (provider),
// UNAUTHORIZED, FORBIDDEN, NOT_FOUND (none set), INTERNAL_ERROR.
func (s *Store) DeleteOrgAPIKey(ctx context.Context, by Actor, provider orgdb.Provider) error {
	if _, err := orgdb.ParseProvider(string(provider)); err != nil {
		return err
	}
	_, err := writeTx(ctx, s, by, AdminOnly, func(t wtx) (struct{}, error) {
		n, err := t.q.DeleteOrgAPIKey(ctx, provider)
		if err != nil {
			return struct{}{}, Translate(err, "org API key")
		}
		if n == 0 {
			return struct{}{}, orgdb.NotFound("no %s API key is set", provider)
		}
		return struct{}{}, nil
	})
	return err
}

// KeySource says where a resolved LLM key came from.
type KeySource string

// The sources, in the order ResolveLLMKeys tries them.
const (
	SourceOrg  KeySource = "org"  // org_api_keys
	SourceEnv  KeySource = "env"  // the provider's environment variable
	SourceNone KeySource = "none" // neither
)

// LLMKey is the key a session uses for one provider.
type LLMKey struct {
	Provider orgdb.Provider `json:"provider"`
	Key      seal.Secret    `json:"-"`
	Source   KeySource      `json:"source"`
}

// ResolveLLMKeys returns, for every provider, the organization's key if
// one is set, else the provider's environment variable (ANTHROPIC_API_KEY,
// OPENAI_API_KEY, GOOGLE_API_KEY, read through getenv), else nothing. An org
// key that does not open is an error, never a silent fallback to the
// environment. Errors: ENCRYPTION_ERROR, INTERNAL_ERROR.
func (s *Store) ResolveLLMKeys(ctx context.Context, getenv func(string) string) ([]LLMKey, error) {
	rows, err := s.rq.ListSealedOrgAPIKeys(ctx)
	if err != nil {
		return nil, Translate(err, "org API keys")
	}
	var out []LLMKey
	for _, p := range orgdb.Providers() {
		r := LLMKey{Provider: p, Source: SourceNone}
		for _, row := range rows {
			if row.Provider != p {
				continue
			}
			if _, err := s.sealingKey(); err != nil {
				return nil, err
			}
			if r.Key, err = s.opener(row.EncryptedKey).Open(p, row.EncryptedKey); err != nil {
				return nil, err
			}
			r.Source = SourceOrg
		}
		if r.Source == SourceNone {
			if v := strings.TrimSpace(getenv(p.EnvVar())); v != "" {
				r.Key, r.Source = seal.NewSecret(v), SourceEnv
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// RotateSealingKey re-seals every org API key from old to next in one
// IMMEDIATE transaction, on behalf of by (an admin, or the operator, who
// holds the keys), and returns how many it re-sealed. If any key fails
// to open with old, nothing changes and the error names its provider. Keys
// already sealed with next (a rotation run again) are checked and left as
// they are. The store keeps using the key it was opened with: reopen it
// with next.
//
// Passphrase keys are derived with the database's own salt (next always;
// old also with the fixed salt of older versions when the keys are sealed
// under that), so rotating from a passphrase to the same passphrase moves
// keys sealed under the fixed salt to the database's salt.
//
// Errors: VALIDATION_ERROR (missing keys, or old and next the same key in
// this database: nothing to rotate), UNAUTHORIZED, FORBIDDEN,
// ENCRYPTION_ERROR (a key does not open;
// details.provider names it), CONFLICT (a key changed during the rotation),
// INTERNAL_ERROR.
func (s *Store) RotateSealingKey(ctx context.Context, by Actor, old, next seal.Key) (int, error) {
	if old.IsZero() || next.IsZero() {
		return 0, orgdb.Validation("rotating needs both the old and the new sealing key")
	}
	r, err := s.readSealingRecord(ctx)
	if err != nil {
		return 0, err
	}
	next, err = next.Derive(r.kdf)
	if err != nil {
		return 0, err
	}
	from, legacy, err := deriveFor(r, old)
	if err != nil {
		return 0, err
	}
	if !legacy.IsZero() && (r.rec == nil || r.rec.KeyID != next.ID()) {
		from = legacy
	}
	if from.ID() == next.ID() {
		if r.rec != nil && r.stored && r.rec.KeyID != from.ID() {
			return 0, notSealedWithOld(r.rec.KeyID, from)
		}
		return 0, orgdb.Validation("the old and the new sealing key are the same key (%s) in this database: nothing to rotate "+
			"(a passphrase key that already uses this database's salt stays as it is)", next.ID())
	}
	return writeTx(ctx, s, by, AdminOrOperator, func(t wtx) (int, error) {
		return reseal(ctx, t, from, next)
	})
}

// reseal moves the record from old to next and re-seals every org API key
// sealed with old under next, inside the caller's IMMEDIATE transaction t;
// it returns how many it re-sealed. Keys already sealed with next are
// checked and left as they are.
func reseal(ctx context.Context, t wtx, old, next seal.Key) (int, error) {
	q := t.q
	// The record moves first: the triggers accept values sealed with next
	// only once it is recorded. Keys not yet re-sealed are re-sealed
	// below, in this same transaction.
	if err := moveSealingKey(ctx, q, old, next, t.now); err != nil {
		return 0, err
	}
	rows, err := q.ListSealedOrgAPIKeys(ctx)
	if err != nil {
		return 0, Translate(err, "org API keys")
	}
	n := 0
	for _, row := range rows {
		from := old
		if id, _ := seal.SealedKeyID(row.EncryptedKey); id == next.ID() {
			from = next
		}
		plain, err := from.Open(row.Provider, row.EncryptedKey)
		if err != nil {
			var e *orgdb.Error
			if errors.As(err, &e) {
				return 0, orgdb.Wrap(e.Code, err, "rotate sealing key: nothing changed: %s", e.Message).WithReason(e.Reason).
					WithDetails("provider", string(row.Provider))
			}
			return 0, err
		}
		if from == next {
			continue
		}
		sealed, err := next.Seal(row.Provider, plain)
		if err != nil {
			return 0, err
		}
		m, err := q.ResealOrgAPIKey(ctx, db.ResealOrgAPIKeyParams{NewSealed: sealed, ID: row.ID, OldSealed: row.EncryptedKey})
		if err != nil {
			return 0, Translate(err, "org API key")
		}
		if m != 1 {
			return 0, orgdb.Conflict("rotate sealing key: the %s key changed during the rotation; nothing changed, run it again", row.Provider)
		}
		n++
	}
	return n, nil
}
