package problem

import (
	"context"
	"errors"
)

// ContentType is the media type of RFC 9457 bodies.
const ContentType = "application/problem+json"

// Details is the RFC 9457 body, extended with a stable code and field errors.
type Details struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
	// ErrorsOmitted counts the invalid fields past the MaxFieldErrors listed.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
}

// From builds the body for err. Errors without a code become a bare 500 so
// internals never leak.
func From(err error) Details {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = ErrTimeout
	case errors.Is(err, context.Canceled):
		err = ErrCanceled
	}
	pe := CodeOf(err)
	d := Details{Type: "about:blank", Title: pe.Title, Status: pe.Status, Code: pe.Code}
	if pe == ErrInternal {
		return d
	}
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		d.Errors, d.ErrorsOmitted = ve.Fields, ve.Omitted
		d.Title = ve.base().Title
		return d
	}
	if d.Status >= 500 {
		// The text of a server-side failure is internal (addresses, SQL);
		// only a detail marked public reaches the client.
		if pub, ok := errors.AsType[*publicDetail](err); ok {
			d.Detail = pub.detail
		}
		return d
	}
	if msg := err.Error(); msg != pe.Title {
		d.Detail = msg
	}
	return d
}

// WithDetail attaches a detail that is safe to show clients to an error
// whose own text is internal.
func WithDetail(err error, detail string) error { return &publicDetail{err: err, detail: detail} }

type publicDetail struct {
	err    error
	detail string
}

func (p *publicDetail) Error() string { return p.err.Error() }
func (p *publicDetail) Unwrap() error { return p.err }

// RemoteError is an error decoded from a problem+json answer. It unwraps to
// the sentinel its code names, so errors.Is works across the wire.
type RemoteError struct {
	Sentinel error
	Details  Details
}

func (e *RemoteError) Error() string {
	if e.Details.Detail != "" {
		return e.Details.Detail
	}
	return e.Details.Title
}

// Unwrap returns the sentinel for the code.
func (e *RemoteError) Unwrap() error { return e.Sentinel }

// Decode turns a received body back into an error, using known to map codes
// to sentinels. Timeouts and cancellation map to the context errors.
func Decode(d Details, known map[string]error) error {
	return DecodeRemote(&RemoteError{Details: d}, known)
}

// DecodeRemote is Decode of the body in re.Details, answering re itself
// when the error is a RemoteError: a client decodes the body straight
// into the error it returns.
func DecodeRemote(re *RemoteError, known map[string]error) error {
	d := &re.Details
	if len(d.Errors) > 0 {
		base := ErrValidation
		if d.Code == ErrBadRequest.Code {
			base = ErrBadRequest
		}
		return &ValidationError{Base: base, Fields: d.Errors, Omitted: d.ErrorsOmitted}
	}
	switch d.Code {
	case ErrTimeout.Code:
		re.Sentinel = context.DeadlineExceeded
		return re
	case ErrCanceled.Code:
		re.Sentinel = context.Canceled
		return re
	}
	if s, ok := known[d.Code]; ok {
		re.Sentinel = s
		return re
	}
	if d.Status == 0 {
		d.Status = 500
	}
	re.Sentinel = New(d.Code, d.Status, d.Title)
	return re
}

// Registry maps codes to sentinels for Decode.
func Registry(errs ...*Error) map[string]error {
	m := make(map[string]error, len(errs)+len(Common))
	for _, e := range Common {
		m[e.Code] = e
	}
	for _, e := range errs {
		m[e.Code] = e
	}
	return m
}
