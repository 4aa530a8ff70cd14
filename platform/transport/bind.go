package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

// MaxBodyBytes is the largest request body a server reads: 1 MiB. The HTTP
// server answers 413 beyond it (httpserver.BodyLimit).
const MaxBodyBytes = 1 << 20

// Bind decodes a JSON request body strictly into dst: the content type must
// be JSON, unknown fields and trailing data are refused, and errors name the
// offending field.
func Bind(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); ct != "" && ct != "application/json" { // the usual one, parsed for nothing
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fmt.Errorf("%w: expected application/json, got %q", problem.ErrUnsupportedMedia, ct)
		}
	}
	return decode(req.Body, req.ContentLength, dst)
}

// Decode reads exactly one JSON value from r into dst. Members named twice
// and strings holding NUL are refused too, and so are bodies nested too
// deeply or holding too many elements (see scan).
func Decode(r io.Reader, dst any) error { return decode(r, -1, dst) }

func decode(r io.Reader, size int64, dst any) error {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := buf.readFrom(r, size, -1); err != nil {
		return decodeError(err)
	}
	raw := buf.b
	if err := scan(raw); err != nil {
		return err
	}
	sd := strictDecoders.Get().(*strictDecoder)
	err := sd.decode(raw, dst)
	if err == nil && len(raw) <= maxPooled {
		strictDecoders.Put(sd) // one that failed may hold a broken stream: dropped
	}
	return err
}

// strictDecoder is a json.Decoder (DisallowUnknownFields) over a reader
// handed each body in turn. A Decoder reads a stream of values, so once a
// body's one value is read, and nothing but space follows it, the next
// body continues the same stream: one Decoder and its buffer serve request
// after request, where a new one would cost three allocations and half a
// kilobyte each.
type strictDecoder struct {
	src bytes.Reader
	dec *json.Decoder
}

var strictDecoders = sync.Pool{New: func() any {
	sd := &strictDecoder{}
	sd.dec = json.NewDecoder(&sd.src)
	sd.dec.DisallowUnknownFields()
	return sd
}}

func (sd *strictDecoder) decode(raw []byte, dst any) error {
	sd.src.Reset(raw)
	if err := sd.dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if sd.dec.More() {
		return problem.Malformed("body", "must hold a single JSON value")
	}
	if _, err := sd.dec.Token(); err != io.EOF {
		return problem.Malformed("body", "must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		maxBytes *http.MaxBytesError
		httpErr  *echo.HTTPError // echo's body limit, met while reading
	)
	switch {
	case errors.Is(err, io.EOF):
		return problem.Malformed("body", "is empty; a JSON object is required")
	case errors.As(err, &maxBytes), errors.As(err, &httpErr) && httpErr.Code == http.StatusRequestEntityTooLarge:
		return problem.ErrTooLarge
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Malformed("body", "is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return problem.Malformed(field, "must be "+jsonType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return problem.Malformed("body", `has a member with an empty name ("")`)
		}
		return problem.Malformed(name, "is not a known field")
	}
	return problem.Malformed("body", "could not be decoded")
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number in range"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return "of another type"
}
