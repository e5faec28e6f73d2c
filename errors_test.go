package orgdb_test

import (
	"encoding/json"
	"errors"
	"fmt"
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
