package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/platform/pgtest"
)

// TestHostileInput sends what an attacker or a broken client would, to one
// process and to three: every request gets its clear client error, and
// none leaves a row behind.
func TestHostileInput(t *testing.T) {
	t.Run("one process", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		runHostile(t, oneProcessOn(t, db, nil), db)
	})
	t.Run("three processes", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		runHostile(t, threeProcesses(t, db, "", nil), db)
	})
	// The gateway applies the rate limits; startApp sets them generous, so
	// the cases answer for themselves and not 429.
	t.Run("gateway before three processes", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		runHostile(t, behindGateway(t, threeProcesses(t, db, "", nil)), db)
	})
}

// hostile is one attack: the request (with the victim's token if auth) and
// the problem it must get.
type hostile struct {
	name   string
	req    request
	auth   bool
	status int
	code   string
	fields []string
}

func runHostile(t *testing.T, topo topology, db string) {
	victim := hostileVictim(t, topo)
	conn := connect(t, db) // one connection: a fresh one per case would pile up until the end
	counts := func() map[string]int { return rowCounts(t, conn) }
	cases := append(hostileCases(victim.token), tokenAttacks(t, topo, db, victim)...)
	// The victim's setup wrote events; once they are delivered, only a
	// case can change a count.
	eventsDelivered(t, conn)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := counts()
			if c.auth {
				c.req.token = victim.token
			}
			r := topo.do(t, c.req)
			requireProblem(t, r, c.status, c.code, c.fields...)
			assert.NotContains(t, string(r.body), "runtime", "no internals in %s", r.body)
			assert.Equal(t, []string{"nosniff"}, r.header.Values("X-Content-Type-Options"))
			assert.Equal(t, before, counts(), "rows left behind")
		})
	}
	t.Run("victim's wallet untouched", func(t *testing.T) {
		w := decode[map[string]any](t, topo.get(t, "/api/v1/wallet", victim.token), http.StatusOK)
		require.EqualValues(t, depositCents, w["balance_cents"])
	})
	t.Run("a foreign origin gets no CORS grant", func(t *testing.T) {
		r := topo.do(t, request{method: http.MethodOptions, path: "/api/v1/orders", header: map[string]string{
			"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST",
		}})
		require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("an allowed origin is granted once", func(t *testing.T) {
		const origin = "http://localhost:3000" // any loopback origin in development
		r := topo.do(t, request{method: http.MethodGet, path: "/api/v1/wallet", token: victim.token, header: map[string]string{"Origin": origin}})
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, []string{origin}, r.header.Values("Access-Control-Allow-Origin"))
		for _, h := range []string{"X-Frame-Options", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
			require.Len(t, r.header.Values(h), 1, h)
		}
	})
	t.Run("past 20 invalid fields the rest are counted", func(t *testing.T) {
		items := make([]orders.Item, orders.MaxItems)
		r := topo.post(t, "/api/v1/orders", victim.token, map[string]any{"items": items})
		d := requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Len(t, d.Errors, 20)
		require.Equal(t, 2*orders.MaxItems-20, d.ErrorsOmitted, "%s", r.body)
	})
	t.Run("a client's request id is kept only when short and plain", func(t *testing.T) {
		for id, kept := range map[string]bool{
			"trace-42:a.b_c": true, strings.Repeat("a", 128): true,
			strings.Repeat("a", 129): false, "<script>": false, "a b": false, "idé": false,
		} {
			r := topo.do(t, request{method: http.MethodGet, path: "/api/v1/products", header: map[string]string{"X-Request-Id": id}})
			require.Equal(t, http.StatusOK, r.status)
			got := r.header.Get("X-Request-Id")
			require.Regexp(t, `^[A-Za-z0-9._:-]{1,128}$`, got)
			require.Equal(t, kept, got == id, "%q answered with %q", id, got)
		}
	})
	t.Run("strange but valid names are kept verbatim", func(t *testing.T) {
		for i, name := range []string{
			"Robert'); DROP TABLE users.users;--", "\u202eevil\u202c", "zero\u200bwidth", "☕🚀👩‍👩‍👧", "Ådå Łøvęłåcé", "<script>alert(1)</script>",
		} {
			email := fmt.Sprintf("strange%d@example.com", i)
			r := topo.post(t, "/api/v1/users", "", map[string]string{"email": email, "name": name, "password": "long enough password"})
			u := decode[users.User](t, r, http.StatusCreated)
			require.Equal(t, name, u.Name)
			require.Equal(t, "application/json", mediaType(r), "never HTML")
		}
	})
}

// hostileVictim registers a user with a deposit and an order, so attacks
// have data to aim at.
func hostileVictim(t *testing.T, topo topology) account {
	a := account{email: "victim@example.com", name: "Victim", password: "victim's long password"}
	a.user = decode[users.User](t, topo.post(t, "/api/v1/users", "", map[string]string{"email": a.email, "name": a.name, "password": a.password}), http.StatusCreated)
	a.token = decode[users.Token](t, topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": a.email, "password": a.password}), http.StatusOK).AccessToken
	decode[map[string]any](t, topo.post(t, "/api/v1/wallet/deposits", a.token, map[string]int64{"amount_cents": depositCents}), http.StatusCreated)
	return a
}

// rowCounts counts the rows of every table of every module's schema on
// conn's database (the migrations' bookkeeping aside): whatever a request
// writes, directly or through the events and sagas it starts, shows here.
func rowCounts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('schema_migrations', 'schema_migration_locks') ORDER BY 1`, schemasIn(t, conn))
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	out := map[string]int{}
	for _, table := range tables {
		var n int
		require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n), table)
		out[table] = n
	}
	return out
}

// eventsDelivered waits until every module's outbox is fanned out and
// every delivery made (or dead).
func eventsDelivered(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var q []string
	for _, m := range schemasIn(t, conn) {
		q = append(q, fmt.Sprintf("(SELECT count(*) FROM %s.event_deliveries WHERE status = 'pending')", m),
			fmt.Sprintf("(SELECT count(*) FROM %s.event_outbox WHERE fanned_out_at IS NULL)", m))
	}
	require.Eventually(t, func() bool {
		var n int
		err := conn.QueryRow(t.Context(), "SELECT "+strings.Join(q, " + ")).Scan(&n)
		return err == nil && n == 0
	}, 20*time.Second, 50*time.Millisecond, "events still undelivered")
}

func hostileCases(token string) []hostile {
	const (
		register = "/api/v1/users"
		login    = "/api/v1/auth/token"
		deposits = "/api/v1/wallet/deposits"
		place    = "/api/v1/orders"
	)
	post := func(path string, body any) request { return request{method: http.MethodPost, path: path, body: body} }
	get := func(path string) request { return request{method: http.MethodGet, path: path} }
	withHeader := func(r request, k, v string) request {
		r.header = map[string]string{k: v}
		return r
	}
	user := func(email, name, password string) map[string]string {
		return map[string]string{"email": email, "name": name, "password": password}
	}
	items := func(sku string, qty any) map[string]any {
		return map[string]any{"items": []map[string]any{{"sku": sku, "quantity": qty}}}
	}
	otherSecret, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject: uuid.NewString(), Issuer: "mitosis", IssuedAt: jwt.NewNumericDate(time.Now()),
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
	}).SignedString([]byte("not-the-secret-not-the-secret-not-the-secret"))
	algNone, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": uuid.NewString(), "iss": "mitosis", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	tooMany := map[string]any{"items": func() []orders.Item {
		var its []orders.Item
		for i := range orders.MaxItems + 1 {
			its = append(its, orders.Item{SKU: fmt.Sprintf("SKU-%d", i), Quantity: 1})
		}
		return its
	}()}
	sqli := "' OR '1'='1'; DROP TABLE users.users; --"
	validUser := `"email":"mallory@example.com","name":"Mallory","password":"long enough password"`
	// exactly returns a registration of exactly size bytes, its name padded.
	exactly := func(size int) string {
		head, tail := `{"email":"big@example.com","password":"long enough password","name":"`, `"}`
		return head + strings.Repeat("a", size-len(head)-len(tail)) + tail
	}
	zeroQuantities := func(n int) string {
		return `{"items":[` + strings.Repeat(`{"sku":"COFFEE-1KG","quantity":0},`, n-1) + `{"sku":"COFFEE-1KG","quantity":0}]}`
	}

	return []hostile{
		// Limits and media types.
		{name: "oversize body", req: post(register, `{"name":"`+strings.Repeat("a", 1<<20+1)+`"}`), status: 413, code: "request_too_large"},
		{name: "body of exactly 1 MiB", req: post(register, exactly(1<<20)), status: 422, code: "validation_failed", fields: []string{"name"}},
		{name: "body of 1 MiB and one byte", req: post(register, exactly(1<<20+1)), status: 413, code: "request_too_large"},
		{name: "oversize order", auth: true, req: post(place, `{"items":[`+strings.Repeat(`{"sku":"X","quantity":1},`, 50000)+`{}]}`), status: 413, code: "request_too_large"},
		{name: "text/plain", req: withHeader(post(register, `{`+validUser+`}`), "Content-Type", "text/plain"), status: 415, code: "unsupported_media_type"},
		{name: "form encoded", req: withHeader(post(register, "email=a%40b.c&name=x"), "Content-Type", "application/x-www-form-urlencoded"), status: 415, code: "unsupported_media_type"},
		{name: "XML", auth: true, req: withHeader(post(deposits, `<amount_cents>1</amount_cents>`), "Content-Type", "application/xml"), status: 415, code: "unsupported_media_type"},
		{name: "bogus content type", req: withHeader(post(login, `{}`), "Content-Type", "application/json; charset"), status: 415, code: "unsupported_media_type"},

		// Bodies that do not decode.
		{name: "malformed JSON", req: post(register, `{"email": `), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "empty body", req: post(register, ""), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "empty order body", auth: true, req: post(place, ""), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "array body", req: post(register, `[]`), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "two JSON values", req: post(register, `{`+validUser+`} {}`), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "unknown field", req: post(register, `{`+validUser+`,"is_admin":true}`), status: 400, code: "bad_request", fields: []string{"is_admin"}},
		{name: "wrong type", req: post(register, `{"email":42,"name":"M","password":"long enough password"}`), status: 400, code: "bad_request", fields: []string{"email"}},
		{name: "duplicate key", req: post(register, `{`+validUser+`,"email":"other@example.com"}`), status: 400, code: "bad_request", fields: []string{"email"}},
		{name: "duplicate key in another case", req: post(register, `{`+validUser+`,"Email":"other@example.com"}`), status: 400, code: "bad_request", fields: []string{"Email"}},
		{name: "duplicate key at login", req: post(login, `{"email":"victim@example.com","password":"x","PASSWORD":"y"}`), status: 400, code: "bad_request", fields: []string{"PASSWORD"}},
		{name: "duplicate key at refresh", req: post("/api/v1/auth/refresh", `{"refresh_token":"a","Refresh_Token":"b"}`), status: 400, code: "bad_request", fields: []string{"Refresh_Token"}},
		{name: "duplicate key at logout", req: post("/api/v1/auth/logout", `{"refresh_token":"a","REFRESH_TOKEN":"b"}`), status: 400, code: "bad_request", fields: []string{"REFRESH_TOKEN"}},
		{name: "duplicate key in an item", auth: true, req: post(place, `{"items":[{"sku":"COFFEE-1KG","SKU":"TEA-100G","quantity":1}]}`), status: 400, code: "bad_request", fields: []string{"items[0].SKU"}},
		{name: "duplicate items in another case", auth: true, req: post(place, `{"items":[{"sku":"COFFEE-1KG","quantity":1}],"Items":[]}`), status: 400, code: "bad_request", fields: []string{"Items"}},
		{name: "deeply nested body", req: post(register, strings.Repeat("[", 1<<20)), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "deeply nested order", auth: true, req: post(place, `{"items":`+strings.Repeat(`[`, 100)+strings.Repeat(`]`, 100)+`}`), status: 400, code: "bad_request", fields: []string{"body"}},
		{name: "NUL in name", req: post(register, user("nul@example.com", "Mal\x00lory", "long enough password")), status: 400, code: "bad_request", fields: []string{"name"}},
		{name: "NUL in login", req: post(login, map[string]string{"email": "victim@example.com\x00", "password": "x"}), status: 400, code: "bad_request", fields: []string{"email"}},
		{name: "null body", req: post(register, `null`), status: 422, code: "validation_failed", fields: []string{"email", "name", "password"}},

		// Values out of range.
		{name: "SQL injection in email", req: post(register, user(sqli, "M", "long enough password")), status: 422, code: "validation_failed", fields: []string{"email"}},
		{name: "SQL injection at login", req: post(login, map[string]string{"email": sqli, "password": sqli}), status: 401, code: users.ErrInvalidCredentials.Code},
		{name: "email too long", req: post(register, user(strings.Repeat("a", 250)+"@example.com", "M", "long enough password")), status: 422, code: "validation_failed", fields: []string{"email"}},
		{name: "name too long", req: post(register, user("long@example.com", strings.Repeat("🚀", 101), "long enough password")), status: 422, code: "validation_failed", fields: []string{"name"}},
		{name: "password past bcrypt's 72 bytes", req: post(register, user("pw@example.com", "M", strings.Repeat("p", 73))), status: 422, code: "validation_failed", fields: []string{"password"}},
		{name: "existing email, other case", req: post(register, user("VICTIM@example.com", "M", "long enough password")), status: 409, code: users.ErrEmailTaken.Code},
		{name: "existing email, full-width", req: post(register, user("ｖｉｃｔｉｍ@example.com", "M", "long enough password")), status: 409, code: users.ErrEmailTaken.Code},
		{name: "existing email, zero-width joiner", req: post(register, user("vic‍tim@example.com", "M", "long enough password")), status: 422, code: "validation_failed", fields: []string{"email"}},
		{name: "existing email, Cyrillic i", req: post(register, user("vіctim@example.com", "M", "long enough password")), status: 422, code: "validation_failed", fields: []string{"email"}},
		{name: "negative deposit", auth: true, req: post(deposits, map[string]any{"amount_cents": -100}), status: 422, code: "validation_failed", fields: []string{"amount_cents"}},
		{name: "zero deposit", auth: true, req: post(deposits, map[string]any{"amount_cents": 0}), status: 422, code: "validation_failed", fields: []string{"amount_cents"}},
		{name: "huge deposit", auth: true, req: post(deposits, map[string]any{"amount_cents": int64(1) << 62}), status: 422, code: "validation_failed", fields: []string{"amount_cents"}},
		{name: "deposit beyond int64", auth: true, req: post(deposits, `{"amount_cents": 9223372036854775808}`), status: 400, code: "bad_request", fields: []string{"amount_cents"}},
		{name: "fractional cents", auth: true, req: post(deposits, `{"amount_cents": 10.5}`), status: 400, code: "bad_request", fields: []string{"amount_cents"}},
		{name: "amount as string", auth: true, req: post(deposits, `{"amount_cents": "100"}`), status: 400, code: "bad_request", fields: []string{"amount_cents"}},
		{name: "duplicate amount", auth: true, req: post(deposits, `{"amount_cents": 1, "amount_cents": 100000000}`), status: 400, code: "bad_request", fields: []string{"amount_cents"}},
		{name: "duplicate amount in another case", auth: true, req: post(deposits, `{"amount_cents":5,"Amount_Cents":700}`), status: 400, code: "bad_request", fields: []string{"Amount_Cents"}},
		{name: "huge idempotency key", auth: true, req: withHeader(post(deposits, map[string]any{"amount_cents": 1}), "Idempotency-Key", strings.Repeat("k", 10000)), status: 422, code: "validation_failed", fields: []string{"idempotency_key"}},
		{name: "negative quantity", auth: true, req: post(place, items("COFFEE-1KG", -1)), status: 422, code: "validation_failed", fields: []string{"items[0].quantity"}},
		{name: "zero quantity", auth: true, req: post(place, items("COFFEE-1KG", 0)), status: 422, code: "validation_failed", fields: []string{"items[0].quantity"}},
		{name: "huge quantity", auth: true, req: post(place, items("COFFEE-1KG", 1<<40)), status: 422, code: "validation_failed", fields: []string{"items[0].quantity"}},
		{name: "quantity beyond int64", auth: true, req: post(place, `{"items":[{"sku":"COFFEE-1KG","quantity":99999999999999999999}]}`), status: 400, code: "bad_request"},
		{name: "SQL injection in sku", auth: true, req: post(place, items(sqli, 1)), status: 422, code: "validation_failed", fields: []string{"items[0].sku"}},
		{name: "unicode sku", auth: true, req: post(place, items("\u202eGK1-EEFFOC\u200b☕", 1)), status: 422, code: "validation_failed", fields: []string{"items[0].sku"}},
		{name: "NUL in sku", auth: true, req: post(place, items("COFFEE-1KG\x00", 1)), status: 400, code: "bad_request", fields: []string{"items[0].sku"}},
		{name: "too many items", auth: true, req: post(place, tooMany), status: 422, code: "validation_failed", fields: []string{"items"}},
		{name: "10,000 items of quantity 0", auth: true, req: post(place, zeroQuantities(10_000)), status: 422, code: "validation_failed", fields: []string{"items"}},
		{name: "50 items of quantity 0", auth: true, req: post(place, zeroQuantities(orders.MaxItems)), status: 422, code: "validation_failed", fields: []string{"items[0].quantity", "items[1].sku"}},
		{name: "repeated sku", auth: true, req: post(place, `{"items":[{"sku":"COFFEE-1KG","quantity":1},{"sku":"COFFEE-1KG","quantity":1}]}`), status: 422, code: "validation_failed", fields: []string{"items[1].sku"}},
		{name: "items not an array", auth: true, req: post(place, `{"items":{"sku":"COFFEE-1KG","quantity":1}}`), status: 400, code: "bad_request", fields: []string{"items"}},
		{name: "null item", auth: true, req: post(place, `{"items":[null]}`), status: 422, code: "validation_failed", fields: []string{"items[0].sku"}},

		// Tokens and headers.
		{name: "no token", req: post(place, items("COFFEE-1KG", 1)), status: 401, code: "unauthorized"},
		{name: "repeated Authorization", req: request{method: http.MethodPost, path: place, body: items("COFFEE-1KG", 1),
			headers: http.Header{"Authorization": {"Bearer " + token, "Bearer " + token}}}, status: 401, code: "unauthorized"},
		{name: "basic auth", req: withHeader(get("/api/v1/users/me"), "Authorization", "Basic dmljdGltOnB3"), status: 401, code: "unauthorized"},
		{name: "empty bearer", req: withHeader(get("/api/v1/users/me"), "Authorization", "Bearer "), status: 401, code: "unauthorized"},
		{name: "alg none", req: withHeader(get("/api/v1/wallet"), "Authorization", "Bearer "+algNone), status: 401, code: "unauthorized"},
		{name: "foreign signature", req: withHeader(post(deposits, map[string]any{"amount_cents": 1}), "Authorization", "Bearer "+otherSecret), status: 401, code: "unauthorized"},
		{name: "64 KiB token", req: withHeader(get("/api/v1/users/me"), "Authorization", "Bearer "+strings.Repeat("A", 64<<10)), status: 401, code: "unauthorized"},

		// Paths and query parameters.
		{name: "SQL injection as order id", auth: true, req: get("/api/v1/orders/" + url.PathEscape(sqli)), status: 404, code: orders.ErrNotFound.Code},
		{name: "bad UUID", auth: true, req: get("/api/v1/orders/12345678-1234-1234-1234-1234567890zz"), status: 404, code: orders.ErrNotFound.Code},
		{name: "URN UUID", auth: true, req: get("/api/v1/orders/urn:uuid:" + uuid.NewString()), status: 404, code: orders.ErrNotFound.Code},
		{name: "braced UUID payment", auth: true, req: get("/api/v1/payments/%7B" + uuid.NewString() + "%7D"), status: 404, code: "payments.not_found"},
		{name: "cancel an unknown order", auth: true, req: post("/api/v1/orders/"+uuid.NewString()+"/cancel", nil), status: 404, code: orders.ErrNotFound.Code},
		{name: "path traversal", auth: true, req: get("/api/v1/orders/../../internal/payments/list"), status: 404, code: "not_found"},
		{name: "encoded path traversal", auth: true, req: get("/api/v1/orders/..%2F..%2Finternal%2Fpayments%2Flist"), status: 404, code: orders.ErrNotFound.Code},
		{name: "negative limit", auth: true, req: get("/api/v1/orders?limit=-1"), status: 422, code: "validation_failed", fields: []string{"limit"}},
		{name: "limit beyond int64", auth: true, req: get("/api/v1/orders?limit=99999999999999999999"), status: 400, code: "bad_request", fields: []string{"limit"}},
		{name: "forged cursor", auth: true, req: get("/api/v1/orders?cursor=" + url.QueryEscape(sqli)), status: 422, code: "validation_failed", fields: []string{"cursor"}},
		{name: "SQL injection in order_id", auth: true, req: get("/api/v1/payments?order_id=" + url.QueryEscape(sqli)), status: 422, code: "validation_failed", fields: []string{"order_id"}},
		{name: "NUL in order_id", auth: true, req: get("/api/v1/payments?order_id=%00"), status: 422, code: "validation_failed", fields: []string{"order_id"}},
		{name: "method not allowed", auth: true, req: request{method: http.MethodDelete, path: place}, status: 405, code: "method_not_allowed"},
	}
}
