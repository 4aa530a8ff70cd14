package httpserver

import (
	"math/rand/v2"

	"github.com/labstack/echo/v4"

	"mitosis/platform/telemetry"
	"mitosis/platform/transport"
)

// MaxRequestIDLength bounds a request id a client may choose.
const MaxRequestIDLength = 128

// requestID gives every request an id: the client's X-Request-Id when it
// is one short and plain value (PlainRequestID), a fresh one otherwise.
// Ids go into logs, answers and calls to other modules: a long or strange
// one (a newline, a quote, markup) would carry the client's text there.
// The answer carries the id, the request too (as a proxy passes it on),
// and so does the request's context, for the calls it makes.
//
// It does what echo's RequestID middleware did here, with the values
// shared between the request and the answer, and an id made with one
// allocation (echo's generator makes two).
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ids := req.Header[echo.HeaderXRequestID]
		if len(ids) != 1 || !PlainRequestID(ids[0]) {
			ids = []string{newRequestID()}
			req.Header[echo.HeaderXRequestID] = ids
		}
		c.Response().Header()[echo.HeaderXRequestID] = ids
		if scope := telemetry.ScopeFrom(req.Context()); scope != nil {
			scope.RequestID = ids[0]
		} else {
			c.SetRequest(req.WithContext(transport.WithRequestID(req.Context(), ids[0])))
		}
		return next(c)
	}
}

// PlainRequestID reports whether id is a request id a client may choose.
func PlainRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// idLetters are the letters of a fresh request id, as echo made them.
const idLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// requestIDLength is the length of a fresh id: 32 letters, 182 bits.
const requestIDLength = 32

// newRequestID makes a fresh id from the runtime's random source (ChaCha8,
// seeded by the system): an id correlates lines, it guards nothing.
func newRequestID() string {
	var b [requestIDLength]byte
	for i := 0; i < len(b); {
		bits := rand.Uint64()
		for range 10 { // ten 6-bit draws per word; those past the letters are skipped
			if v := bits & 63; v < uint64(len(idLetters)) && i < len(b) {
				b[i] = idLetters[v]
				i++
			}
			bits >>= 6
		}
	}
	return string(b[:])
}
