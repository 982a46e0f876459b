// Package apperr defines the errors the API shows to clients, each with a
// stable code (GraphQL extensions.code), and the presenter that maps every
// other error to INTERNAL without leaking it outside development.
package apperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable error code.
type Code string

// The codes of the API. Clients may switch on them; they never change meaning.
const (
	BadUserInput      Code = "BAD_USER_INPUT"
	NotFound          Code = "NOT_FOUND"
	Conflict          Code = "CONFLICT"
	InvalidTransition Code = "INVALID_TRANSITION"
	Internal          Code = "INTERNAL"
	// Unauthenticated: no credentials, or credentials that do not verify.
	Unauthenticated Code = "UNAUTHENTICATED"
	// Forbidden: the viewer's role does not allow the operation.
	Forbidden Code = "FORBIDDEN"
	// Timeout: the request ran past its deadline (HTTP_REQUEST_TIMEOUT,
	// FILE_UPLOAD_TIMEOUT), a server-side limit.
	Timeout Code = "TIMEOUT"
	// Cancelled: the client went away before the answer (closed its
	// connection, or cancelled the request); nobody reads the error, which
	// is neither logged nor reported, and the request is logged with status
	// 499 (StatusClientClosedRequest).
	Cancelled       Code = "CANCELLED"
	RequestTooLarge Code = "REQUEST_TOO_LARGE"
	// DolibarrUnavailable: the customer directory cannot be reached; the rest
	// of the response is served.
	DolibarrUnavailable Code = "DOLIBARR_UNAVAILABLE"
	// BadRequest: not a well-formed GraphQL-over-HTTP request (a body that is
	// not a JSON GraphQL request, no query), or one the HTTP layer cannot
	// serve: a mutation over GET (405), an Accept naming no JSON media type
	// (406), a body of another media type (415). The HTTP status tells which.
	BadRequest Code = "BAD_REQUEST"
	// CSRFPrevented: a request a browser could send cross-site without a preflight.
	CSRFPrevented Code = "CSRF_PREVENTED"
	// RateLimited: over a rate limit (HTTP 429 with Retry-After).
	RateLimited Code = "RATE_LIMITED"
	// FileTooLarge: an uploaded file exceeds FILE_MAX_BYTES; nothing was stored.
	FileTooLarge Code = "FILE_TOO_LARGE"
	// UnsupportedFileType: an uploaded file's sniffed content type is not
	// allowed for its kind; nothing was stored.
	UnsupportedFileType Code = "UNSUPPORTED_FILE_TYPE"
	// StorageUnavailable: the file store cannot be reached; nothing was stored.
	StorageUnavailable Code = "STORAGE_UNAVAILABLE"
	// Unavailable: the main database cannot be reached. A failed mutation
	// is never applied in part; retry later (HTTP 503 with Retry-After when
	// the whole request failed).
	Unavailable Code = "UNAVAILABLE"
	// TooManyTokens: the document has more tokens than GRAPHQL_MAX_TOKENS.
	TooManyTokens Code = "TOO_MANY_TOKENS"
	// TooManySubscriptions: the connection runs as many operations as it may.
	TooManySubscriptions Code = "TOO_MANY_SUBSCRIPTIONS"
	// SlowConsumer: a subscription's client did not read fast enough; resume
	// with the cursor of the last event received.
	SlowConsumer Code = "SLOW_CONSUMER"
	// The codes gqlgen gives to documents that do not parse or validate.
	ParseFailed      Code = "GRAPHQL_PARSE_FAILED"
	ValidationFailed Code = "GRAPHQL_VALIDATION_FAILED"
)

// Error is an error meant for the client.
type Error struct {
	Code    Code
	Message string
	// Field is the argument path the error is about (e.g. "input.carrier"), if any.
	Field string
	// Extensions are added to the GraphQL error's extensions.
	Extensions map[string]any
	// Err is the underlying cause; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one argument field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NOT_FOUND error.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// CodeOf returns the code of err, or "" if err carries none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// StatusClientClosedRequest is the status the access log and the request
// metrics give a request whose client went away before its answer (nginx's
// 499 "client closed request"). It is never sent: nobody would read it.
const StatusClientClosedRequest = 499

// ClientGone reports whether ctx, the context of a request or of its
// operation, was cancelled because the client went away: net/http cancels a
// request's context when its connection closes. A context past its deadline
// (a server-side timeout, TIMEOUT) is not: its error is
// context.DeadlineExceeded.
func ClientGone(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request's ID, which INTERNAL
// errors show so an operator can find the logged detail.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WriteHTTP answers a request that never reached GraphQL execution (refused
// by authentication, a limit, the upload transport...) with a GraphQL-shaped
// error carrying code, and the HTTP status.
func WriteHTTP(w http.ResponseWriter, status int, code Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}
