package contract_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testCalls() config.Calls {
	return config.Calls{Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond, MaxConcurrency: 8,
		BreakerFailures: 100, BreakerCooldown: time.Minute}
}

const secret = "contract-test-secret-contract-test-secret"

// serveShop serves impl's contract on real HTTP on loopback, behind the
// service-credentials guard, and returns a client factory for it.
func serveShop(t *testing.T, impl shop) (url string, f *transport.Factory) {
	t.Helper()
	guard := auth.NewJWTServiceAuth([]byte(secret), "shop")
	e := echo.New()
	e.HTTPErrorHandler = httpserver.ErrorHandler(quiet())
	e.Use(guard.GuardInternal)
	shopAPI.Serve(e, impl)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	creds := auth.NewJWTServiceAuth([]byte(secret), "orders,payments")
	return srv.URL, transport.NewFactory(config.Config{Calls: testCalls()}, creds, quiet())
}

func TestADeclarationNamesTheMethodAndItsRoute(t *testing.T) {
	assert.Equal(t, "shop", shopAPI.Module())
	assert.Equal(t, []string{"Buy", "GetPrice", "Restock"}, shopAPI.Methods())
	assert.Equal(t, "Buy", buy.Name())
	assert.Equal(t, "/internal/shop/buy", buy.Path())
	assert.Equal(t, "/internal/shop/get-price", getP.Path())
}

// The same calls give the same answers and errors in-process and over HTTP,
// and each is counted on the edge of the caller the stub is bound to.
func TestCallsLocalAndOverHTTPAreTheSameCountedPerCaller(t *testing.T) {
	impl := &store{callerOf: auth.Caller}
	url, f := serveShop(t, impl)
	ways := map[string]func(*contract.Registry) shop{
		contract.TransportLocal: func(r *contract.Registry) shop { return shopAPI.Local(impl, r) },
		contract.TransportHTTP: func(r *contract.Registry) shop {
			return shopAPI.Remote(f.New("shop", url, errSoldOut), r)
		},
	}
	for via, build := range ways {
		t.Run(via, func(t *testing.T) {
			reg := contract.NewRegistry()
			unbound := build(reg)
			asOrders := contract.ForCaller(unbound, "orders")
			ctx := context.Background()

			r, err := asOrders.Buy(ctx, buyRequest{SKU: "tea"})
			require.NoError(t, err)
			assert.Equal(t, "tea", r.SKU)
			if via == contract.TransportHTTP {
				assert.Equal(t, "orders", r.Caller, "the callee sees the bound caller in its service credentials")
			}
			_, err = asOrders.Buy(ctx, buyRequest{SKU: "gone"})
			require.ErrorIs(t, err, errSoldOut)
			_, err = asOrders.Buy(ctx, buyRequest{SKU: "boom"})
			assert.Equal(t, problem.ErrInternal.Code, contract.Code(err))
			_, err = asOrders.GetPrice(ctx, priceRequest{})
			require.ErrorIs(t, err, problem.ErrValidation)
			p, err := contract.ForCaller(unbound, "gateway").GetPrice(ctx, priceRequest{SKU: "tea"})
			require.NoError(t, err)
			assert.Equal(t, int64(300), p.Cents)

			byEdge := map[string]contract.EdgeCount{}
			for _, c := range reg.Counts() {
				assert.Equal(t, via, c.Transport)
				byEdge[c.Caller+">"+c.Method] = c
			}
			assert.Equal(t, uint64(3), byEdge["orders>Buy"].Calls)
			assert.Equal(t, map[string]uint64{"shop.sold_out": 1, "internal": 1}, byEdge["orders>Buy"].Failures)
			assert.Equal(t, uint64(1), byEdge["orders>GetPrice"].Calls)
			assert.Equal(t, map[string]uint64{"validation_failed": 1}, byEdge["orders>GetPrice"].Failures)
			assert.Equal(t, uint64(1), byEdge["gateway>GetPrice"].Calls)
			assert.Equal(t, uint64(0), byEdge[">Buy"].Calls, "the unbound stub's edge exists and was not used")
		})
	}
}

// Binding twice for one caller shares the edge: counters do not split.
func TestBindingIsSharedPerCaller(t *testing.T) {
	reg := contract.NewRegistry()
	unbound := shopAPI.Local(&store{}, reg)
	for range 3 {
		_, err := contract.ForCaller(unbound, "orders").GetPrice(context.Background(), priceRequest{SKU: "x"})
		require.NoError(t, err)
	}
	var calls uint64
	for _, c := range reg.Counts() {
		if c.Caller == "orders" && c.Method == "GetPrice" {
			calls += c.Calls
		}
	}
	assert.Equal(t, uint64(3), calls)
	assert.Len(t, reg.Counts(), 6, "three methods, unbound and orders")
}

// The declaration's safety reaches the client's retries: an unsafe write
// is sent once, a keyed write without its key once, with it again.
func TestTheDeclaredSafetyGovernsRetries(t *testing.T) {
	impl := &store{}
	url, f := serveShop(t, impl)
	s := shopAPI.Remote(f.New("shop", url, errSoldOut), contract.NewRegistry())
	_, err := s.Restock(context.Background(), priceRequest{SKU: "x"})
	require.ErrorIs(t, err, problem.ErrUnavailable)
	assert.Equal(t, 1, impl.restocks, "Unsafe: never repeated")
}

// In-process, the stub adds no allocation of its own, whether the call
// succeeds or fails with a sentinel.
func TestALocalCallAllocatesNothingOfItsOwn(t *testing.T) {
	impl := &store{}
	s := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry()), "orders")
	ctx := context.Background()
	in := buyRequest{SKU: "gone"}
	direct := testing.AllocsPerRun(200, func() { _, _ = impl.Buy(ctx, in) })
	viaStub := testing.AllocsPerRun(200, func() { _, _ = s.Buy(ctx, in) })
	assert.Equal(t, direct, viaStub)
	ok := buyRequest{SKU: "tea"}
	assert.Zero(t, testing.AllocsPerRun(200, func() { _, _ = s.Buy(ctx, ok) }))
}

// Inside a caller's fx module the contract is bound to the caller; outside
// it, it is the unbound stub.
func TestTopologyBindsADependencyToItsCaller(t *testing.T) {
	reg := contract.NewRegistry()
	impl := &store{}
	shopSpec := topology.Spec{Name: "shop", Contract: shopAPI,
		Local: fx.Provide(func(r *contract.Registry) shop { return shopAPI.Local(impl, r) })}
	var fromBuyer shop
	buyerSpec := topology.Spec{Name: "buyer", DependsOn: []string{"shop"},
		Local: fx.Invoke(func(s shop) { fromBuyer = s })}
	var fromRoot shop
	app := fx.New(fx.NopLogger, fx.Supply(reg),
		topology.Manual([]string{"shop", "buyer"}, nil).Options([]topology.Spec{shopSpec, buyerSpec}),
		fx.Populate(&fromRoot))
	require.NoError(t, app.Err())

	_, err := fromBuyer.GetPrice(context.Background(), priceRequest{SKU: "x"})
	require.NoError(t, err)
	_, err = fromRoot.GetPrice(context.Background(), priceRequest{SKU: "x"})
	require.NoError(t, err)
	calls := map[string]uint64{}
	for _, c := range reg.Counts() {
		if c.Method == "GetPrice" {
			calls[c.Caller] = c.Calls
		}
	}
	assert.Equal(t, map[string]uint64{"buyer": 1, "": 1}, calls)
}

// Implementation exposes what a local stub calls, for benchmarks.
func TestImplementationIsTheLocalTarget(t *testing.T) {
	impl := &store{}
	s := shopAPI.Local(impl, contract.NewRegistry())
	got, ok := s.(interface{ Implementation() any })
	require.True(t, ok)
	assert.Same(t, impl, got.Implementation())
}

// Verify names what the declaration misses, so a new interface method
// without its declaration fails a test.
func TestVerifyNamesUndeclaredMethods(t *testing.T) {
	require.NoError(t, shopAPI.Verify())
	partial := contract.Define("partial", nil, func(s contract.Stub[shop]) shop { return shopStub{s} })
	contract.Read(partial, shop.GetPrice)
	contract.Read(partial, shop.GetPrice)
	err := partial.Verify()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Buy is not declared")
	assert.Contains(t, err.Error(), "Restock is not declared")
	assert.Contains(t, err.Error(), "GetPrice is declared more than once")
}
