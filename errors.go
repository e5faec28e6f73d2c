package orgdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
)

// Code is the stable, machine-readable kind of an [Error]. The web client
// and the service's HTTP layer switch on it; its text never changes.
type Code string

// The codes an [Error] can carry.
const (
	CodeValidation   Code = "VALIDATION_ERROR"
	CodeUnauthorized Code = "UNAUTHORIZED"
	CodeForbidden    Code = "FORBIDDEN"
	CodeNotFound     Code = "NOT_FOUND"
	CodeConflict     Code = "CONFLICT"
	CodeEncryption   Code = "ENCRYPTION_ERROR"
	CodeInternal     Code = "INTERNAL_ERROR"
	// CodeNotPrimary: a write reached a read replica (LiteFS); nothing was
	// done, and the request belongs on the primary, whose hostname is in
	// details.primary.
	CodeNotPrimary Code = "NOT_PRIMARY"
	// CodeUnavailable: the database cannot answer yet (a replica that has
	// not caught up in time); the same request can succeed later.
	CodeUnavailable Code = "UNAVAILABLE"
)

// HTTPStatus is the status code the service answers with for errors of
// this code; unknown codes map to 500.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeValidation:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict:
		return http.StatusConflict
	case CodeNotPrimary:
		// 421 Misdirected Request: this server cannot produce the answer;
		// the client may retry elsewhere, even a non-idempotent request,
		// since nothing was done. (503 would read as "unhealthy" to load
		// balancers, though the replica serves reads; 307 needs a URL the
		// client can reach, where a service forwards to a hostname.)
		return http.StatusMisdirectedRequest
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error is the one error type of orgdb that callers are expected to
// inspect. It carries a stable [Code], optionally a finer stable Reason
// (e.g. "last_admin", "invite_expired"), a message safe to show to the
// user, optional details, and optionally the underlying cause (never
// serialized).
//
// Match a kind with errors.Is against the sentinels (errors.Is(err,
// orgdb.ErrForbidden)) or extract it with errors.As(err, &e) where e is an
// *orgdb.Error; [HTTPStatus] does the latter for an HTTP layer.
type Error struct {
	Code    Code
	Reason  string
	Message string
	Details map[string]any
	cause   error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Code.
var (
	ErrValidation   = &Error{Code: CodeValidation, Message: "validation error"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "forbidden"}
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "conflict"}
	ErrEncryption   = &Error{Code: CodeEncryption, Message: "encryption error"}
	ErrInternal     = &Error{Code: CodeInternal, Message: "internal error"}
	ErrNotPrimary   = &Error{Code: CodeNotPrimary, Message: "not the primary"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "unavailable"}
)

// Error returns the message, prefixed by nothing: it is written for people.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code and, if the
// target has a Reason, the same reason: errors.Is(err, orgdb.ErrNotFound)
// matches every not-found error, and a sentinel with a Reason matches only
// errors of that reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

// HTTPStatus is the HTTP status of the error's code.
func (e *Error) HTTPStatus() int { return e.Code.HTTPStatus() }

// MarshalJSON writes the body the service sends: {"error","code","details"}.
// The Reason, if any, is details.reason. The cause is never included.
func (e *Error) MarshalJSON() ([]byte, error) {
	d := e.Details
	if e.Reason != "" {
		d = make(map[string]any, len(e.Details)+1)
		maps.Copy(d, e.Details)
		d["reason"] = e.Reason
	}
	return json.Marshal(ErrorBody{Error: e.Message, Code: e.Code, Details: d})
}

// UnmarshalJSON reads the body written by MarshalJSON.
func (e *Error) UnmarshalJSON(b []byte) error {
	var j ErrorBody
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Error{Code: j.Code, Message: j.Error, Details: j.Details}
	if r, ok := j.Details["reason"].(string); ok {
		e.Reason = r
		delete(e.Details, "reason")
		if len(e.Details) == 0 {
			e.Details = nil
		}
	}
	return nil
}

// ErrorBody is the JSON of an [Error], the body of every error response.
type ErrorBody struct {
	Error   string         `json:"error"`
	Code    Code           `json:"code"`
	Details map[string]any `json:"details,omitempty"`
}

// WithDetails returns a copy of e with the given key/value added to its
// details.
func (e *Error) WithDetails(key string, value any) *Error {
	c := *e
	c.Details = make(map[string]any, len(e.Details)+1)
	maps.Copy(c.Details, e.Details)
	c.Details[key] = value
	return &c
}

// WithReason returns a copy of e with the given reason.
func (e *Error) WithReason(reason string) *Error {
	c := *e
	c.Reason = reason
	return &c
}

func newError(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), cause: cause}
}

// Validation returns a VALIDATION_ERROR (400): the input was malformed.
func Validation(format string, args ...any) *Error {
	return newError(CodeValidation, nil, format, args...)
}

// Unauthorized returns an UNAUTHORIZED error (401): the caller is unknown.
func Unauthorized(format string, args ...any) *Error {
	return newError(CodeUnauthorized, nil, format, args...)
}

// Forbidden returns a FORBIDDEN error (403): the caller is known but not
// allowed. It is the ForbiddenError of the service's shared errors.
func Forbidden(format string, args ...any) *Error {
	return newError(CodeForbidden, nil, format, args...)
}

// NotFound returns a NOT_FOUND error (404).
func NotFound(format string, args ...any) *Error {
	return newError(CodeNotFound, nil, format, args...)
}

// Conflict returns a CONFLICT error (409): the request contradicts the
// current state (a duplicate, the last admin, a row still referenced).
func Conflict(format string, args ...any) *Error {
	return newError(CodeConflict, nil, format, args...)
}

// Encryption returns an ENCRYPTION_ERROR (500) wrapping cause. Its message
// must never contain a secret.
func Encryption(cause error, format string, args ...any) *Error {
	return newError(CodeEncryption, cause, format, args...)
}

// Internal returns an INTERNAL_ERROR (500) wrapping cause: a failure that
// is nobody's fault (the disk, a lock held too long, a bug).
func Internal(cause error, format string, args ...any) *Error {
	return newError(CodeInternal, cause, format, args...)
}

// Wrap returns an error of the given code with the message and the cause
// kept for errors.Is/As and logs.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return newError(code, cause, format, args...)
}

// HTTPStatus returns the HTTP status for any error: the status of the first
// *Error in its chain, 500 for anything else, 200 for nil.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus()
	}
	return http.StatusInternalServerError
}
