package httpserver

import (
	"github.com/labstack/echo/v4"
)

// MaxRequestIDLength bounds a request id a client may choose.
const MaxRequestIDLength = 128

// dropUnfitRequestID removes a client's X-Request-Id unless it is one short
// and plain value ([A-Za-z0-9._:-], at most MaxRequestIDLength), so the
// request id middleware after it makes a fresh one. Ids go into logs,
// answers and calls to other modules: a long or strange one (a newline, a
// quote, markup) would carry the client's text there.
func dropUnfitRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if ids := h.Values(echo.HeaderXRequestID); len(ids) > 0 && (len(ids) > 1 || !PlainRequestID(ids[0])) {
			h.Del(echo.HeaderXRequestID)
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
