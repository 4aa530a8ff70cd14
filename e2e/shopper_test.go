package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
)

// customers is how many customers each shopper places orders for, in
// turn, as it orders every product of the catalog in turn: one wallet's
// row, or one product's stock row, updated thousands of times slows down
// as its dead versions pile up until autovacuum comes by, at a time of its
// own in each database, which is noise (two identical processes ordering
// one product each differed by 3 ms at the median, 2 ms of it in
// inventory's statements).
const customers = 16

// shopper places orders on one topology, for its customers in turn.
type shopper struct {
	client        *http.Client
	orders, payer string   // base URLs serving orders and users, and the wallet
	tokens        []string // of each customer
	token         string   // the one sending now
	skus          []string // the catalog's
	n             int
}

func newShopper(t *testing.T, client *http.Client, ordersURL, walletURL string) *shopper {
	s := &shopper{client: client, orders: ordersURL, payer: walletURL}
	for range customers {
		s.token = ""
		email := uuid.NewString() + "@example.com"
		var u users.User
		s.send(t, ordersURL+"/api/v1/users", map[string]string{"email": email, "name": "Advised", "password": "correct horse battery"}, http.StatusCreated, &u)
		var tok users.Token
		s.send(t, ordersURL+"/api/v1/auth/token", map[string]string{"email": email, "password": "correct horse battery"}, http.StatusOK, &tok)
		s.token = tok.AccessToken
		// The wallet is opened when payments handles user.registered.
		require.Eventually(t, func() bool {
			status, _ := s.post(t, walletURL+"/api/v1/wallet/deposits", map[string]int64{"amount_cents": payments.MaxAmountCents})
			return status == http.StatusCreated
		}, 20*time.Second, 50*time.Millisecond, "deposit")
		s.tokens = append(s.tokens, s.token)
	}
	var list orders.ProductList
	resp, err := client.Get(ordersURL + "/api/v1/products")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.NotEmpty(t, list.Items)
	for _, p := range list.Items {
		s.skus = append(s.skus, p.SKU)
	}
	return s
}

// order places one order, which must be confirmed, and returns how long
// the answer took, in seconds.
func (s *shopper) order(t *testing.T) float64 {
	s.token = s.tokens[s.n%len(s.tokens)]
	sku := s.skus[s.n%len(s.skus)]
	s.n++
	start := time.Now()
	var o orders.Order
	s.send(t, s.orders+"/api/v1/orders", map[string]any{"items": []orders.Item{{SKU: sku, Quantity: 1}}}, http.StatusCreated, &o)
	took := time.Since(start).Seconds()
	require.Equal(t, orders.StatusConfirmed, o.Status)
	return took
}

func (s *shopper) send(t *testing.T, url string, body any, want int, out any) {
	t.Helper()
	status, raw := s.post(t, url, body)
	require.Equal(t, want, status, "POST %s: %s", url, raw)
	require.NoError(t, json.Unmarshal(raw, out))
}

func (s *shopper) post(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", uuid.NewString())
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, answer
}
