// Package transporttest fuzzes request decoding: whatever a client sends,
// Bind answers with a value or a client error, never a panic or a 500.
package transporttest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// FuzzBind fuzzes transport.Bind into a T with the given JSON seed bodies
// (each also sent with a few content types).
func FuzzBind[T any](f *testing.F, seeds ...string) {
	seeds = append(seeds, "", "null", "{}", "[]", `{"a":1}`, "{", `{"x":"\u0000"}`, "1e999", `{} {}`, "\xff\xfe")
	for _, s := range seeds {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json", ""} {
			f.Add(ct, s)
		}
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		var dst T
		err := transport.Bind(e.NewContext(req, httptest.NewRecorder()), &dst)
		if err == nil {
			// What decoded must encode and decode again to the same value.
			raw, merr := json.Marshal(dst)
			if merr != nil {
				t.Fatalf("decoded %q into %+v, which does not encode: %v", body, dst, merr)
			}
			var again T
			if derr := transport.Decode(strings.NewReader(string(raw)), &again); derr != nil {
				t.Fatalf("re-decoding %s: %v", raw, derr)
			}
			return
		}
		pe := problem.CodeOf(err)
		switch pe {
		case problem.ErrBadRequest:
			var ve *problem.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 || ve.Fields[0].Field == "" {
				t.Fatalf("400 without a field for %q: %v", body, err)
			}
		case problem.ErrUnsupportedMedia, problem.ErrTooLarge:
		default:
			t.Fatalf("content type %q, body %q: %v (code %s) is not a client error", contentType, body, err, pe.Code)
		}
	})
}
