// Package problem defines coded errors and their RFC 9457 representation.
//
// A module declares its failures as sentinel *Error values with a stable
// code. The HTTP server writes them as problem+json, and the HTTP client
// turns the code back into the same sentinel, so errors.Is answers the same
// whether a module runs in this process or elsewhere.
package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a sentinel failure with a stable machine-readable code.
type Error struct {
	Code   string
	Status int
	Title  string
}

// New declares a sentinel error.
func New(code string, status int, title string) *Error {
	return &Error{Code: code, Status: status, Title: title}
}

func (e *Error) Error() string { return e.Title }

// Errors every module shares. Module-specific errors live in the contracts.
var (
	ErrNotFound         = New("not_found", http.StatusNotFound, "Not Found")
	ErrUnauthorized     = New("unauthorized", http.StatusUnauthorized, "Unauthorized")
	ErrForbidden        = New("forbidden", http.StatusForbidden, "Forbidden")
	ErrValidation       = New("validation_failed", http.StatusUnprocessableEntity, "Validation failed")
	ErrBadRequest       = New("bad_request", http.StatusBadRequest, "Bad request")
	ErrMethodNotAllowed = New("method_not_allowed", http.StatusMethodNotAllowed, "Method not allowed")
	ErrTooLarge         = New("request_too_large", http.StatusRequestEntityTooLarge, "Request body too large")
	ErrUnsupportedMedia = New("unsupported_media_type", http.StatusUnsupportedMediaType, "Unsupported media type")
	ErrTimeout          = New("deadline_exceeded", http.StatusGatewayTimeout, "Deadline exceeded")
	ErrCanceled         = New("canceled", 499, "Request canceled")
	ErrUnavailable      = New("unavailable", http.StatusServiceUnavailable, "Service unavailable")
	ErrInternal         = New("internal", http.StatusInternalServerError, "Internal server error")
)

// Common lists the shared errors, for clients that decode codes.
var Common = []*Error{
	ErrNotFound, ErrUnauthorized, ErrForbidden, ErrValidation, ErrBadRequest,
	ErrMethodNotAllowed, ErrTooLarge, ErrUnsupportedMedia, ErrTimeout, ErrCanceled,
	ErrUnavailable, ErrInternal,
}

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// MaxFieldErrors is how many invalid fields one error lists; the rest are
// only counted, so a request with thousands of bad values does not get an
// answer many times its size.
const MaxFieldErrors = 20

// ValidationError reports the invalid fields of a request at once: the
// first MaxFieldErrors of them, and how many more there were.
type ValidationError struct {
	Base    *Error // ErrValidation or ErrBadRequest
	Fields  []FieldError
	Omitted int // invalid fields not listed
}

func (e *ValidationError) Error() string {
	msg := e.base().Title
	for i, f := range e.Fields {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		msg += sep + f.Field + " " + f.Message
	}
	if e.Omitted > 0 {
		msg += fmt.Sprintf(", and %d more", e.Omitted)
	}
	return msg
}

func (e *ValidationError) base() *Error {
	if e.Base == nil {
		return ErrValidation
	}
	return e.Base
}

// FieldNames lists the invalid fields, in order.
func (e *ValidationError) FieldNames() []string {
	names := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}

// Unwrap makes errors.Is(err, ErrValidation) hold.
func (e *ValidationError) Unwrap() error { return e.base() }

// Fields collects field errors, keeping the first MaxFieldErrors and
// counting the rest; Err returns nil when there are none.
type Fields struct {
	list    []FieldError
	omitted int
}

// Add records an invalid field.
func (f *Fields) Add(field, message string) {
	if len(f.list) == MaxFieldErrors {
		f.omitted++
		return
	}
	f.list = append(f.list, FieldError{field, message})
}

// Err returns a *ValidationError for the collected fields, or nil.
func (f Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &ValidationError{Fields: f.list, Omitted: f.omitted}
}

// Invalid is shorthand for a validation error on one field.
func Invalid(field, message string) error {
	return &ValidationError{Fields: []FieldError{{field, message}}}
}

// Malformed reports a request that could not be decoded (400).
func Malformed(field, message string) error {
	return &ValidationError{Base: ErrBadRequest, Fields: []FieldError{{field, message}}}
}

// CodeOf returns the sentinel behind err, or ErrInternal.
func CodeOf(err error) *Error {
	// AsType, not As: As's target escapes, one allocation on every failed
	// call (the error handler, the edge counters and the client ask).
	if pe, ok := errors.AsType[*Error](err); ok {
		return pe
	}
	return ErrInternal
}
