package orgdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
// (e.g. "last_admin", "invite_expired"), a message a client may read,
// optional details, and, for the operator only, an internal message and
// the underlying cause.
//
// Two audiences, kept apart:
//
//   - the client (the web client, through the service's HTTP layer) reads
//     the JSON: the public Message (for INTERNAL_ERROR always the fixed
//     text "internal error"), the code and the details. It never carries a
//     file path, a shell command or a driver's text.
//   - the operator (logs, the CLI) reads Error(): the internal message
//     when there is one (paths, commands, the cause's text), else the
//     public one. A logger gets both and the cause through [Error.LogValue];
//     errors.Unwrap gives the cause.
//
// Match a kind with errors.Is against the sentinels (errors.Is(err,
// orgdb.ErrForbidden)) or extract it with errors.As(err, &e) where e is an
// *orgdb.Error; [HTTPStatus] does the latter for an HTTP layer.
type Error struct {
	Code   Code
	Reason string
	// Message is what a client may read: what happened and what to do, in
	// the service's words. It never holds a file path, a command or a
	// driver's text; those go in the internal message
	// ([Error.WithInternalMessage]). For INTERNAL_ERROR the JSON carries
	// [InternalMessage] instead, whatever Message says.
	Message string
	Details map[string]any
	// internal is the operator's message, if it differs from Message.
	internal string
	cause    error
}

// InternalMessage is the public message of every INTERNAL_ERROR: a client
// learns that the failure is the server's, nothing of its cause.
const InternalMessage = "internal error"

// Sentinels for errors.Is: an *Error matches the sentinel of its Code.
var (
	ErrValidation   = &Error{Code: CodeValidation, Message: "validation error"}
	ErrUnauthorized = &Error{Code: CodeUnauthorized, Message: "unauthorized"}
	ErrForbidden    = &Error{Code: CodeForbidden, Message: "forbidden"}
	ErrNotFound     = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict     = &Error{Code: CodeConflict, Message: "conflict"}
	ErrEncryption   = &Error{Code: CodeEncryption, Message: "encryption error"}
	ErrInternal     = &Error{Code: CodeInternal, Message: InternalMessage}
	ErrNotPrimary   = &Error{Code: CodeNotPrimary, Message: "not the primary"}
	ErrUnavailable  = &Error{Code: CodeUnavailable, Message: "unavailable"}
)

// Error returns the operator's message: the internal one if the error has
// one (it may name paths, commands and the cause), else the public
// Message. A client reads the JSON ([Error.MarshalJSON]) or
// [Error.PublicMessage], never this.
func (e *Error) Error() string {
	if e.internal != "" {
		return e.internal
	}
	return e.Message
}

// PublicMessage is the message a client may read: Message, or
// [InternalMessage] for an INTERNAL_ERROR (and for a code orgdb does not
// know, which maps to 500 too).
func (e *Error) PublicMessage() string {
	if e.Code.HTTPStatus() == http.StatusInternalServerError && e.Code != CodeEncryption {
		return InternalMessage
	}
	return e.Message
}

// InternalMessage returns the operator's message ("" when it is the
// public Message).
func (e *Error) InternalMessage() string { return e.internal }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// LogValue gives a logger everything, for the operator: the code, the
// reason, the public message, the internal message and the cause's text.
// (The cause holds no secret: orgdb never puts a key in an error.)
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", string(e.Code))}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	attrs = append(attrs, slog.String("message", e.PublicMessage()))
	if e.internal != "" {
		attrs = append(attrs, slog.String("internal", e.internal))
	}
	if e.cause != nil {
		attrs = append(attrs, slog.String("cause", e.cause.Error()))
	}
	if len(e.Details) > 0 {
		attrs = append(attrs, slog.Any("details", e.Details))
	}
	return slog.GroupValue(attrs...)
}

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

// MarshalJSON writes the body the service sends: {"error","code","details"},
// where error is [Error.PublicMessage]. The Reason, if any, is
// details.reason. The internal message and the cause are never included.
func (e *Error) MarshalJSON() ([]byte, error) {
	d := e.Details
	if e.Reason != "" {
		d = make(map[string]any, len(e.Details)+1)
		maps.Copy(d, e.Details)
		d["reason"] = e.Reason
	}
	return json.Marshal(ErrorBody{Error: e.PublicMessage(), Code: e.Code, Details: d})
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

// WithInternalMessage returns a copy of e whose operator's message
// (Error(), logs, the CLI) is the formatted text; the public Message
// stays. Put there what a client must not read: a file path, a command
// to run on the server, a driver's text.
func (e *Error) WithInternalMessage(format string, args ...any) *Error {
	c := *e
	c.internal = fmt.Sprintf(format, args...)
	return &c
}

// WithCause returns a copy of e with cause as its underlying error
// (errors.Unwrap, logs), never serialized.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
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
	msg := fmt.Sprintf(format, args...)
	if code == CodeInternal {
		// The text of an internal error is the operator's: the client
		// reads InternalMessage.
		return &Error{Code: code, Message: InternalMessage, internal: msg, cause: cause}
	}
	return &Error{Code: code, Message: msg, cause: cause}
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
// is nobody's fault (the disk, a lock held too long, a bug). The formatted
// text is the operator's (Error(), logs; it may name paths and the cause);
// a client reads only [InternalMessage].
func Internal(cause error, format string, args ...any) *Error {
	return newError(CodeInternal, cause, format, args...)
}

// Wrap returns an error of the given code with the message and the cause
// kept for errors.Is/As and logs. As with [Internal], the message of an
// INTERNAL_ERROR is the operator's; for every other code it is public.
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
