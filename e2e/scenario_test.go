package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
)

// depositCents is what alice puts into her wallet.
const depositCents = 10000

// account is a registered user and their token.
type account struct {
	email, name, password string
	user                  users.User
	token                 string
}

// session is the state the scenario's steps build on, in order.
type session struct {
	topo       topology
	catalog    []orders.Product
	alice, bob account
	orderKey   string
	orderItems []orders.Item
	paid       orders.Order // confirmed and charged
	refused    orders.Order // cancelled for insufficient funds
}

// step is one row of the scenario; each relies on the rows before it.
type step struct {
	name string
	run  func(s *session, t *testing.T)
}

// scenario is the table every topology runs. Users and wallet steps are
// here; order and payment steps are in orders_test.go.
var scenario = []step{
	{"catalog is public", (*session).catalogIsPublic},
	{"register", (*session).register},
	{"email is unique in any case", (*session).emailIsUnique},
	{"invalid registration names the fields", (*session).invalidRegistration},
	{"token", (*session).issueTokens},
	{"me needs a token", (*session).me},
	{"signing keys are published; forged tokens refused everywhere", (*session).signingKeys},
	{"refresh rotates, reuse revokes, logout ends", (*session).refreshAndLogout},
	{"deposit", (*session).deposit},
	{"invalid order names the fields", (*session).invalidOrder},
	{"place order", (*session).placeOrder},
	{"replay with the same key charges once", (*session).replayOrder},
	{"same key with another body conflicts", (*session).conflictingKey},
	{"order beyond the balance is cancelled", (*session).orderBeyondBalance},
	{"get order", (*session).getOrder},
	{"order history shows the saga's steps", (*session).orderHistory},
	{"list orders a page at a time", (*session).listOrders},
	{"payments of the order", (*session).paymentsOfOrder},
	{"order details composed by the gateway", (*session).orderDetails},
	{"services listed by the gateway", (*session).services},
	{"cancel refunds once", (*session).cancelOrder},
	{"health", (*session).health},
	{"unknown route", (*session).unknownRoute},
	{"internal routes need service credentials", (*session).internalRoutes},
	{"order statistics follow the order events", (*session).orderStats},
}

// runScenario runs the table in order and stops at the first failing step,
// since the later ones build on its state. It returns rather than ending
// the test, so checks that do not need the scenario still run.
func runScenario(t *testing.T, topo topology) {
	s := &session{
		topo:  topo,
		alice: account{email: "alice@example.com", name: "Alice", password: "correct horse battery"},
		bob:   account{email: "bob@example.com", name: "Bob", password: "another long password"},
	}
	for _, st := range scenario {
		if !t.Run(st.name, func(t *testing.T) { st.run(s, t) }) {
			t.Errorf("step %q failed; skipping the steps that build on it", st.name)
			return
		}
	}
}

func (s *session) catalogIsPublic(t *testing.T) {
	r := s.topo.get(t, "/api/v1/products", "")
	list := decode[orders.ProductList](t, r, http.StatusOK)
	require.GreaterOrEqual(t, len(list.Items), 5)
	for _, p := range list.Items {
		require.NotEmpty(t, p.SKU)
		require.NotEmpty(t, p.Name)
		require.Positive(t, p.PriceCents, p.SKU)
	}
	s.catalog = list.Items
}

func (s *session) register(t *testing.T) {
	for _, a := range []*account{&s.alice, &s.bob} {
		r := s.topo.post(t, "/api/v1/users", "", map[string]string{"email": a.email, "name": a.name, "password": a.password})
		a.user = decode[users.User](t, r, http.StatusCreated)
		requireKeys(t, r, "id", "email", "name", "role", "created_at")
		require.NoError(t, uuid.Validate(a.user.ID))
		require.Equal(t, a.email, a.user.Email)
		require.Equal(t, a.name, a.user.Name)
		require.WithinDuration(t, time.Now(), a.user.CreatedAt, time.Minute)
	}
}

func (s *session) emailIsUnique(t *testing.T) {
	r := s.topo.post(t, "/api/v1/users", "", map[string]string{"email": "ALICE@Example.COM", "name": "Alice Two", "password": "yet another password"})
	requireProblem(t, r, http.StatusConflict, users.ErrEmailTaken.Code)
}

func (s *session) invalidRegistration(t *testing.T) {
	r := s.topo.post(t, "/api/v1/users", "", map[string]string{"email": "not-an-email", "name": "", "password": "short"})
	requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed", "email", "name", "password")

	r = s.topo.post(t, "/api/v1/users", "", map[string]string{"email": "carol@example.com", "nickname": "c"})
	requireProblem(t, r, http.StatusBadRequest, "bad_request", "nickname")

	r = s.topo.post(t, "/api/v1/users", "", `{"email": `)
	requireProblem(t, r, http.StatusBadRequest, "bad_request", "body")
}

func (s *session) issueTokens(t *testing.T) {
	for _, a := range []*account{&s.alice, &s.bob} {
		r := s.topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": a.email, "password": a.password})
		tok := decode[users.Token](t, r, http.StatusOK)
		requireKeys(t, r, "access_token", "token_type", "expires_in", "refresh_token")
		require.NotEmpty(t, tok.AccessToken)
		require.Equal(t, "Bearer", tok.TokenType)
		require.Positive(t, tok.ExpiresIn)
		a.token = tok.AccessToken
	}
	r := s.topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": s.alice.email, "password": "wrong password"})
	requireProblem(t, r, http.StatusUnauthorized, users.ErrInvalidCredentials.Code)
	r = s.topo.post(t, "/api/v1/auth/token", "", map[string]string{"email": "nobody@example.com", "password": s.alice.password})
	requireProblem(t, r, http.StatusUnauthorized, users.ErrInvalidCredentials.Code)
}

func (s *session) me(t *testing.T) {
	me := decode[users.User](t, s.topo.get(t, "/api/v1/users/me", s.alice.token), http.StatusOK)
	require.Equal(t, s.alice.user.ID, me.ID)
	require.Equal(t, s.alice.user.Email, me.Email)
	require.Equal(t, s.alice.user.Name, me.Name)
	require.True(t, s.alice.user.CreatedAt.Equal(me.CreatedAt))

	requireProblem(t, s.topo.get(t, "/api/v1/users/me", ""), http.StatusUnauthorized, "unauthorized")
	requireProblem(t, s.topo.get(t, "/api/v1/users/me", "not.a.token"), http.StatusUnauthorized, "unauthorized")
}

func (s *session) deposit(t *testing.T) {
	r := s.topo.post(t, "/api/v1/wallet/deposits", s.alice.token, map[string]int64{"amount_cents": depositCents})
	w := decode[payments.Wallet](t, r, http.StatusCreated)
	require.Equal(t, int64(depositCents), w.BalanceCents)
	require.Equal(t, s.alice.user.ID, w.UserID)
	s.requireBalance(t, s.alice, depositCents)
	s.requireBalance(t, s.bob, 0)

	r = s.topo.post(t, "/api/v1/wallet/deposits", s.alice.token, map[string]int64{"amount_cents": 0})
	requireProblem(t, r, http.StatusUnprocessableEntity, "validation_failed", "amount_cents")
	r = s.topo.post(t, "/api/v1/wallet/deposits", "", map[string]int64{"amount_cents": depositCents})
	requireProblem(t, r, http.StatusUnauthorized, "unauthorized")
	s.requireBalance(t, s.alice, depositCents)
}

// requireBalance checks the account's wallet through the public API.
func (s *session) requireBalance(t *testing.T, a account, cents int64) {
	t.Helper()
	w := decode[payments.Wallet](t, s.topo.get(t, "/api/v1/wallet", a.token), http.StatusOK)
	require.Equal(t, cents, w.BalanceCents, "balance of %s", a.email)
}
