package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"mitosis/platform/auth"
	"mitosis/platform/problem"
)

// FuzzServiceCredentials sends any Authorization and caller headers to an
// internal route guarded by jwt and by api-key: the answer is 200 only for
// credentials the caller really holds, naming that caller, and otherwise
// 401 problem+json; never a panic or a 500.
func FuzzServiceCredentials(f *testing.F) {
	const key = "fuzz-api-key-fuzz-api-key-fuzz-api-key"
	servers := map[string]*echo.Echo{
		auth.ServiceAuthJWT:    internalServer(f, auth.NewJWTServiceAuth(secret, "payments"), nil),
		auth.ServiceAuthAPIKey: internalServer(f, auth.NewAPIKeyServiceAuth(key, "payments"), nil),
	}
	h := http.Header{}
	if err := auth.NewJWTServiceAuth(secret, "orders").Apply(h, "", "payments"); err != nil {
		f.Fatal(err)
	}
	token := h.Get("Authorization")
	for _, seed := range [][2]string{
		{token, ""}, {token, "users"}, {token + "x", ""}, {strings.Replace(token, "Bearer", "bearer", 1), ""},
		{"ApiKey " + key, "orders"}, {"ApiKey " + key, ""}, {"apikey " + key, "orders"}, {"ApiKey " + key + " ", "orders"},
		{"ApiKey " + key[:len(key)-1], "orders"}, {"Bearer " + key, "orders"}, {"ApiKey", "orders"}, {"", "orders"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, authz, caller string) {
		for mode, e := range servers {
			rec := call(e, http.MethodPost, "/internal/payments/thing", http.Header{
				"Authorization": {authz}, auth.CallerHeader: {caller},
			})
			switch rec.Code {
			case http.StatusOK:
				_, presented, _ := strings.Cut(authz, " ")
				switch {
				case mode == auth.ServiceAuthJWT && rec.Body.String() != "orders":
					t.Fatalf("jwt: %q accepted as %q", authz, rec.Body.String())
				case mode == auth.ServiceAuthAPIKey && (presented != key || caller == "" || rec.Body.String() != caller):
					t.Fatalf("api-key: %q (caller %q) accepted as %q", authz, caller, rec.Body.String())
				}
			case http.StatusUnauthorized:
				if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
					t.Fatalf("%s: 401 as %q", mode, ct)
				}
			default:
				t.Fatalf("%s: %q (caller %q) answered %d %s", mode, authz, caller, rec.Code, rec.Body)
			}
		}
	})
}
