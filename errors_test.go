package orgdb_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/agentops/orgdb"
)

func TestErrorKinds(t *testing.T) {
	cause := errors.New("secret cause")
	tests := []struct {
		err      *orgdb.Error
		sentinel error
		code     orgdb.Code
		status   int
	}{
		{orgdb.Validation("bad %s", "email"), orgdb.ErrValidation, "VALIDATION_ERROR", 400},
		{orgdb.Unauthorized("who are you"), orgdb.ErrUnauthorized, "UNAUTHORIZED", 401},
		{orgdb.Forbidden("Admin access required"), orgdb.ErrForbidden, "FORBIDDEN", 403},
		{orgdb.NotFound("user not found"), orgdb.ErrNotFound, "NOT_FOUND", 404},
		{orgdb.Conflict("last admin"), orgdb.ErrConflict, "CONFLICT", 409},
		{orgdb.Encryption(cause, "cannot open key"), orgdb.ErrEncryption, "ENCRYPTION_ERROR", 500},
		{orgdb.Internal(cause, "users: disk I/O error"), orgdb.ErrInternal, "INTERNAL_ERROR", 500},
		{orgdb.Wrap(orgdb.CodeNotPrimary, nil, "replica"), orgdb.ErrNotPrimary, "NOT_PRIMARY", 421},
		{orgdb.Wrap(orgdb.CodeUnavailable, nil, "behind"), orgdb.ErrUnavailable, "UNAVAILABLE", 503},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("handler: %w", tt.err)
		if tt.err.Code != tt.code || tt.err.HTTPStatus() != tt.status || orgdb.HTTPStatus(wrapped) != tt.status {
			t.Errorf("%v: code %s status %d", tt.err, tt.err.Code, orgdb.HTTPStatus(wrapped))
		}
		if !errors.Is(wrapped, tt.sentinel) {
			t.Errorf("errors.Is(%v, %v) = false", wrapped, tt.sentinel)
		}
		for _, other := range tests {
			if other.sentinel != tt.sentinel && errors.Is(wrapped, other.sentinel) {
				t.Errorf("%s error matches %s", tt.code, other.code)
			}
		}
		var e *orgdb.Error
		if !errors.As(wrapped, &e) || e != tt.err {
			t.Errorf("errors.As did not find the *Error in %v", wrapped)
		}
	}
	if got := orgdb.Forbidden("Admin access required").Error(); got != "Admin access required" {
		t.Errorf("Error() = %q", got)
	}
	if orgdb.HTTPStatus(errors.New("plain")) != 500 || orgdb.HTTPStatus(nil) != 200 {
		t.Error("HTTPStatus of non-orgdb errors")
	}
	// A sentinel with a reason matches only that reason; one without
	// matches the whole code.
	accepted := &orgdb.Error{Code: orgdb.CodeConflict, Reason: "invite_accepted"}
	expired := &orgdb.Error{Code: orgdb.CodeConflict, Reason: "invite_expired"}
	err := fmt.Errorf("x: %w", orgdb.Conflict("invite expired").WithReason("invite_expired"))
	if !errors.Is(err, expired) || errors.Is(err, accepted) || !errors.Is(err, orgdb.ErrConflict) {
		t.Error("reason matching")
	}
	enc := orgdb.Encryption(cause, "cannot open key")
	if !errors.Is(enc, cause) {
		t.Error("cause not unwrapped")
	}
}

func TestErrorJSON(t *testing.T) {
	e := orgdb.Wrap(orgdb.CodeConflict, errors.New("UNIQUE constraint failed: invites.email"), "invite already exists").
		WithDetails("email", "bob@acme.test")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":"invite already exists","code":"CONFLICT","details":{"email":"bob@acme.test"}}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	var back orgdb.Error
	if err := json.Unmarshal(b, &back); err != nil || back.Code != orgdb.CodeConflict || back.Message != e.Message || back.Details["email"] != "bob@acme.test" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	b, _ = json.Marshal(orgdb.Forbidden("Admin access required"))
	if string(b) != `{"error":"Admin access required","code":"FORBIDDEN"}` {
		t.Errorf("JSON without details = %s", b)
	}
	// A reason travels in details.reason and back.
	r := orgdb.Conflict("invite already accepted").WithReason("invite_accepted")
	b, _ = json.Marshal(r)
	if string(b) != `{"error":"invite already accepted","code":"CONFLICT","details":{"reason":"invite_accepted"}}` {
		t.Errorf("JSON with reason = %s", b)
	}
	back = orgdb.Error{}
	if err := json.Unmarshal(b, &back); err != nil || back.Reason != "invite_accepted" || back.Details != nil {
		t.Errorf("round trip with reason = %+v, %v", back, err)
	}

	// WithDetails copies: the original is unchanged.
	base := orgdb.NotFound("x")
	_ = base.WithDetails("k", 1)
	if base.Details != nil {
		t.Error("WithDetails modified its receiver")
	}
}

// An INTERNAL_ERROR's JSON carries the fixed message, whatever its text
// and cause; the operator reads both in Error(), errors.Unwrap and a log
// line. A public message stays public, and an internal one stays out of
// the JSON of any code.
func TestErrorPublicAndInternal(t *testing.T) {
	cause := errors.New("open /srv/orgdb/orgdb.db: disk I/O error")
	for _, e := range []*orgdb.Error{
		orgdb.Internal(cause, "the directory /srv/orgdb does not exist: mkdir -m 700 /srv/orgdb"),
		orgdb.Wrap(orgdb.CodeInternal, cause, "user: %v", cause),
		{Code: orgdb.CodeInternal, Message: "a literal with /a/path"},
		{Code: "SOMETHING_NEW", Message: "/a/path"}, // an unknown code is a 500 too
	} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"error":"internal error","code":%q}`, e.Code); string(b) != want {
			t.Errorf("JSON of %q = %s, want %s", e.Error(), b, want)
		}
		if e.PublicMessage() != orgdb.InternalMessage {
			t.Errorf("PublicMessage = %q", e.PublicMessage())
		}
	}
	e := orgdb.Internal(cause, "user: %v", cause)
	if e.Error() != "user: "+cause.Error() || errors.Unwrap(e) != cause || !errors.Is(e, cause) {
		t.Errorf("the operator's view: Error() %q, Unwrap %v", e.Error(), errors.Unwrap(e))
	}

	// A log line has the code, the public and internal messages and the
	// cause.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("request failed", "err", e)
	var line struct {
		Err map[string]string `json:"err"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if line.Err["code"] != "INTERNAL_ERROR" || line.Err["message"] != "internal error" ||
		line.Err["internal"] != e.Error() || line.Err["cause"] != cause.Error() {
		t.Errorf("logged %s", buf.Bytes())
	}

	// Any code: the internal message is the operator's only.
	nf := orgdb.NotFound("no orgdb database at the configured path").WithInternalMessage("no orgdb database at /srv/x.db: run `orgdb migrate --db /srv/x.db`").
		WithReason("no_database")
	b, err := json.Marshal(nf)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"error":"no orgdb database at the configured path","code":"NOT_FOUND","details":{"reason":"no_database"}}` {
		t.Errorf("JSON = %s", b)
	}
	if !strings.Contains(nf.Error(), "/srv/x.db") || nf.InternalMessage() != nf.Error() {
		t.Errorf("Error() = %q", nf.Error())
	}
	// WithCause keeps the cause out of the JSON too.
	wc := orgdb.Forbidden("no").WithCause(cause)
	if b, _ := json.Marshal(wc); strings.Contains(string(b), "disk") || !errors.Is(wc, cause) {
		t.Errorf("WithCause: %s", b)
	}
}
