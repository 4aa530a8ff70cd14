package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/contract"
)

// pricedShop is a shop whose Buy asks another shop for the price first,
// so a call of Buy makes a nested call.
type pricedShop struct {
	store
	prices shop
}

func (p *pricedShop) Buy(ctx context.Context, in buyRequest) (receipt, error) {
	if _, err := p.prices.GetPrice(ctx, priceRequest{SKU: in.SKU}); err != nil {
		return receipt{}, err
	}
	return p.store.Buy(ctx, in)
}

// One request in RecordEvery is recorded in full, under its route's
// template: the calls it made, nested ones too, how deep, and what they
// carried; the others are only counted.
func TestRecordKeepsTheCallsOfOneRequestInN(t *testing.T) {
	reg := contract.NewRegistry(contract.RecordEvery(2))
	prices := contract.ForCaller(shopAPI.Local(&store{}, reg), "shop")
	shopper := contract.ForCaller(shopAPI.Local(&pricedShop{prices: prices}, reg), "orders")
	e := echo.New()
	e.Use(reg.Record)
	e.POST("/orders/:id", func(c echo.Context) error {
		for range 2 {
			if _, err := shopper.Buy(c.Request().Context(), buyRequest{SKU: "tea"}); err != nil {
				return err
			}
		}
		return c.NoContent(http.StatusNoContent)
	})
	for _, id := range []string{"a", "b", "c", "d"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/orders/"+id, nil))
		require.Equal(t, http.StatusNoContent, rec.Code)
	}

	routes := reg.Routes()
	require.Len(t, routes, 1)
	r := routes[0]
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "/orders/:id", r.Route, "the template, not the raw path")
	assert.Equal(t, uint64(4), r.Requests)
	assert.Equal(t, uint64(2), r.Recorded)
	assert.Equal(t, 2, r.MaxDepth, "orders → shop.Buy → shop.GetPrice")
	assert.Equal(t, []contract.RouteEdge{
		{Caller: "orders", Callee: "shop", Method: "Buy", Transport: "local", Calls: 4, MaxPerRequest: 2},
		{Caller: "shop", Callee: "shop", Method: "GetPrice", Transport: "local", Calls: 4, MaxPerRequest: 2},
	}, r.Edges)
	require.Len(t, r.Recent, 2)
	assert.Equal(t, []contract.EdgeCalls{
		{Caller: "orders", Callee: "shop", Method: "Buy", N: 2},
		{Caller: "shop", Callee: "shop", Method: "GetPrice", N: 2},
	}, r.Recent[1].Calls)
	assert.Equal(t, 2, r.Recent[1].Depth)
	assert.Positive(t, r.Recent[1].Seconds)

	in, _ := json.Marshal(buyRequest{SKU: "tea"})
	out, _ := json.Marshal(receipt{SKU: "tea"})
	found := false
	for _, c := range reg.Counts() {
		if c.Caller == "orders" && c.Method == "Buy" {
			found = true
			assert.Equal(t, uint64(8), c.Calls, "every call counted")
			assert.Equal(t, uint64(4), c.Sample.Calls, "the recorded ones timed")
			assert.Equal(t, uint64(4), c.Sample.Sized)
			assert.Equal(t, uint64(4*len(in)), c.Sample.RequestBytes)
			assert.Equal(t, uint64(4*len(out)), c.Sample.ResponseBytes)
			assert.Positive(t, c.Sample.Seconds)
		}
	}
	require.True(t, found, "the edge orders → shop.Buy is counted")
}

// Requests of the hop probe and unrouted ones are not traffic.
func TestRecordSkipsTheProbeAndUnroutedRequests(t *testing.T) {
	reg := contract.NewRegistry(contract.RecordEvery(1))
	e := echo.New()
	e.Use(reg.Record)
	e.POST(contract.ProbePrefix+"echo", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	for _, path := range []string{contract.ProbePrefix + "echo", "/nowhere"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
	}
	assert.Empty(t, reg.Routes())
}

// Calls made from many goroutines of one recorded request, while other
// requests run and the records are read, are all counted (run with -race).
func TestRecordCountsConcurrentCalls(t *testing.T) {
	reg := contract.NewRegistry(contract.RecordEvery(2))
	shopper := contract.ForCaller(shopAPI.Local(&store{}, reg), "orders")
	e := echo.New()
	e.Use(reg.Record)
	e.POST("/fan", func(c echo.Context) error {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { _, _ = shopper.Buy(c.Request().Context(), buyRequest{SKU: "tea"}) })
		}
		wg.Wait()
		return c.NoContent(http.StatusNoContent)
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/fan", nil))
				_ = reg.Routes()
				_ = reg.Counts()
			}
		})
	}
	wg.Wait()
	r := reg.Routes()
	require.Len(t, r, 1)
	assert.Equal(t, uint64(40), r[0].Requests)
	assert.Equal(t, uint64(20), r[0].Recorded)
	require.Len(t, r[0].Edges, 1)
	assert.Equal(t, uint64(20*8), r[0].Edges[0].Calls)
	assert.Equal(t, uint64(8), r[0].Edges[0].MaxPerRequest)
	assert.Equal(t, 1, r[0].MaxDepth, "parallel calls are not nested")
}

// slowShop's Buy of "slow" takes slowBuy, its others as long as store's.
type slowShop struct{ store }

const slowBuy = 3 * time.Millisecond

func (s *slowShop) Buy(ctx context.Context, in buyRequest) (receipt, error) {
	if in.SKU == "slow" {
		time.Sleep(slowBuy)
	}
	return s.store.Buy(ctx, in)
}

// An edge keeps the durations of its last RecentCalls timed calls, oldest
// first: the first of 300 (slow) is gone, the 45th (slow) is the oldest
// kept, the 300th (slow) the newest.
func TestRecordKeepsTheDurationsOfAnEdgesLastCalls(t *testing.T) {
	reg := contract.NewRegistry(contract.RecordEvery(1))
	shopper := contract.ForCaller(shopAPI.Local(&slowShop{}, reg), "orders")
	e := echo.New()
	e.Use(reg.Record)
	e.POST("/buy/:sku", func(c echo.Context) error {
		_, err := shopper.Buy(c.Request().Context(), buyRequest{SKU: c.Param("sku")})
		return err
	})
	const calls = 300
	first := calls - contract.RecentCalls
	for i := range calls {
		sku := "tea"
		if i == 0 || i == first || i == calls-1 {
			sku = "slow"
		}
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/buy/"+sku, nil))
	}
	var s contract.Sample
	for _, c := range reg.Counts() {
		if c.Method == "Buy" {
			s = c.Sample
		}
	}
	require.Equal(t, uint64(calls), s.Calls)
	require.Len(t, s.Recent, contract.RecentCalls)
	assert.GreaterOrEqual(t, s.Recent[0], slowBuy.Seconds(), "the oldest kept is call %d", first)
	assert.GreaterOrEqual(t, s.Recent[contract.RecentCalls-1], slowBuy.Seconds(), "the newest is the last call")
	var kept float64
	for _, d := range s.Recent {
		kept += d
	}
	assert.GreaterOrEqual(t, s.Seconds-kept, slowBuy.Seconds(), "the first call is counted in the total, gone from the recent ones")
}

// A recorded request counts the requests it shared the process with: one
// being served when it came, one that came before it ended; a request
// alone overlaps none.
func TestRecordCountsTheRequestsARequestOverlapped(t *testing.T) {
	reg := contract.NewRegistry(contract.RecordEvery(1))
	e := echo.New()
	e.Use(reg.Record)
	entered, release := make(chan struct{}), make(chan struct{})
	e.POST("/slow", func(c echo.Context) error {
		close(entered)
		<-release
		return c.NoContent(http.StatusNoContent)
	})
	e.POST("/quick", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/slow", nil))
	}()
	<-entered
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/quick", nil))
	close(release)
	<-done
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/quick", nil))

	overlaps := map[string][]uint32{}
	for _, r := range reg.Routes() {
		for _, s := range r.Recent {
			overlaps[r.Route] = append(overlaps[r.Route], s.Overlap)
		}
	}
	assert.Equal(t, map[string][]uint32{"/slow": {1}, "/quick": {1, 0}}, overlaps)
}
