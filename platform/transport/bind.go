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
	if ct := req.Header.Get("Content-Type"); ct != "" {
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
	raw, err := readAll(r, size)
	if err != nil {
		return decodeError(err)
	}
	if err := scan(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return problem.Malformed("body", "must hold a single JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.Malformed("body", "must hold a single JSON value")
	}
	return nil
}

// readAll reads r into a buffer of the announced size (a Content-Length up
// to MaxBodyBytes), so a large body is not copied again and again as the
// buffer grows; without one it grows as io.ReadAll does.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > MaxBodyBytes {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, size+1) // +1: reaching EOF needs no growth
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		case len(buf) == cap(buf):
			buf = append(buf, 0)[:len(buf)] // longer than announced
		}
	}
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
