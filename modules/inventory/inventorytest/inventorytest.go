// Package inventorytest is the contract suite of inventory.Service: every
// implementation (local, or the HTTP client) must pass it unchanged.
package inventorytest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/platform/problem"
)

type suite struct {
	svc inventory.Service
	ctx context.Context
}

// Run checks svc against the contract.
func Run(t *testing.T, svc inventory.Service) {
	s := &suite{svc: svc, ctx: context.Background()}
	t.Run("the catalog is stocked", s.testSeeded)
	t.Run("restock adds available stock", s.testRestock)
	t.Run("a keyed restock adds once", s.testRestockKeyed)
	t.Run("reserve holds stock once per order", s.testReserve)
	t.Run("reserve is all or nothing", s.testOutOfStock)
	t.Run("an unknown sku is unknown_sku", s.testUnknownSKU)
	t.Run("release gives stock back once", s.testRelease)
	t.Run("release before reserve forbids it", s.testReleaseFirst)
	t.Run("commit sells held stock once", s.testCommit)
	t.Run("concurrent reserves never oversell", s.testConcurrent)
	t.Run("concurrent orders of the last units of two skus never oversell", s.testConcurrentLastUnits)
	t.Run("invalid input names the field", s.testValidation)
}

// sku returns a new SKU stocked with quantity.
func (s *suite) sku(t *testing.T, quantity int64) string {
	t.Helper()
	sku := "T-" + uuid.NewString()[:13]
	st, err := s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: sku, Quantity: quantity})
	require.NoError(t, err)
	require.Equal(t, inventory.Stock{SKU: sku, Stocked: quantity, Available: quantity}, st)
	return sku
}

// stock returns the SKU's counts, checking they add up.
func (s *suite) stock(t *testing.T, sku string) inventory.Stock {
	t.Helper()
	list, err := s.svc.GetStock(s.ctx, inventory.StockRequest{SKUs: []string{sku}})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	st := list.Items[0]
	require.Equal(t, st.Stocked, st.Available+st.Reserved+st.Sold, "%+v", st)
	return st
}

func (s *suite) reserve(t *testing.T, order string, items ...inventory.Item) inventory.Reservation {
	t.Helper()
	r, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: order, Items: items})
	require.NoError(t, err)
	return r
}

func counts(available, reserved, sold int64) [3]int64 { return [3]int64{available, reserved, sold} }

func countsOf(st inventory.Stock) [3]int64 { return [3]int64{st.Available, st.Reserved, st.Sold} }

func (s *suite) testSeeded(t *testing.T) {
	list, err := s.svc.GetStock(s.ctx, inventory.StockRequest{SKUs: []string{"COFFEE-1KG", "SCALE-DIGI", "NO-SUCH-SKU"}})
	require.NoError(t, err)
	require.Len(t, list.Items, 2, "an SKU not stocked is left out")
	assert.Equal(t, "COFFEE-1KG", list.Items[0].SKU)
	for _, st := range list.Items {
		assert.Positive(t, st.Available, st.SKU)
	}
}

func (s *suite) testRestock(t *testing.T) {
	sku := s.sku(t, 5)
	st, err := s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: sku, Quantity: 7})
	require.NoError(t, err)
	assert.Equal(t, inventory.Stock{SKU: sku, Stocked: 12, Available: 12}, st)
	assert.Equal(t, st, s.stock(t, sku))
}

func (s *suite) testRestockKeyed(t *testing.T) {
	sku := "T-" + uuid.NewString()[:13]
	key := uuid.NewString()
	restock := func(sku string, quantity int64) (inventory.Stock, error) {
		return s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: sku, Quantity: quantity, IdempotencyKey: key})
	}
	// Concurrent repeats of a delivery of a new SKU: it is added once.
	var wg sync.WaitGroup
	got := make([]inventory.Stock, 5)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = restock(sku, 4) })
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, inventory.Stock{SKU: sku, Stocked: 4, Available: 4}, got[i])
	}
	// A repeat after a reservation answers the stock as it is now.
	s.reserve(t, uuid.NewString(), inventory.Item{SKU: sku, Quantity: 1})
	again, err := restock(sku, 4)
	require.NoError(t, err)
	assert.Equal(t, inventory.Stock{SKU: sku, Stocked: 4, Available: 3, Reserved: 1}, again)

	for name, tc := range map[string]struct {
		sku      string
		quantity int64
	}{"another quantity": {sku, 5}, "another sku": {"COFFEE-1KG", 4}} {
		_, err := restock(tc.sku, tc.quantity)
		require.ErrorIs(t, err, inventory.ErrIdempotencyConflict, name)
		assert.Equal(t, "inventory.idempotency_conflict", problem.CodeOf(err).Code, name)
	}
	assert.Equal(t, again, s.stock(t, sku), "a refused repeat adds nothing")
}

func (s *suite) testReserve(t *testing.T) {
	a, b := s.sku(t, 10), s.sku(t, 10)
	order := uuid.NewString()
	first := s.reserve(t, order, inventory.Item{SKU: a, Quantity: 2}, inventory.Item{SKU: b, Quantity: 3}, inventory.Item{SKU: a, Quantity: 1})
	assert.Equal(t, inventory.StatusReserved, first.Status)
	assert.ElementsMatch(t, []inventory.Item{{SKU: a, Quantity: 3}, {SKU: b, Quantity: 3}}, first.Items, "repeats of an SKU are summed")
	again := s.reserve(t, order, inventory.Item{SKU: a, Quantity: 9})
	assert.Equal(t, first.Status, again.Status)
	assert.ElementsMatch(t, first.Items, again.Items, "a repeat returns the first reservation")
	assert.Equal(t, counts(7, 3, 0), countsOf(s.stock(t, a)), "held once")
	assert.Equal(t, counts(7, 3, 0), countsOf(s.stock(t, b)))
}

func (s *suite) testOutOfStock(t *testing.T) {
	plenty, short := s.sku(t, 10), s.sku(t, 2)
	order := uuid.NewString()
	_, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: order, Items: []inventory.Item{{SKU: plenty, Quantity: 1}, {SKU: short, Quantity: 3}}})
	require.ErrorIs(t, err, inventory.ErrOutOfStock)
	assert.Equal(t, "inventory.out_of_stock", problem.CodeOf(err).Code)
	assert.Equal(t, counts(10, 0, 0), countsOf(s.stock(t, plenty)), "nothing held when one item is short")
	assert.Equal(t, counts(2, 0, 0), countsOf(s.stock(t, short)))
	// Refused, not recorded: the same order may try again once restocked.
	_, err = s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: short, Quantity: 1})
	require.NoError(t, err)
	s.reserve(t, order, inventory.Item{SKU: plenty, Quantity: 1}, inventory.Item{SKU: short, Quantity: 3})
	assert.Equal(t, counts(0, 3, 0), countsOf(s.stock(t, short)))
}

func (s *suite) testUnknownSKU(t *testing.T) {
	known := s.sku(t, 1)
	_, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: uuid.NewString(), Items: []inventory.Item{{SKU: known, Quantity: 1}, {SKU: "NO-" + uuid.NewString()[:8], Quantity: 1}}})
	require.ErrorIs(t, err, inventory.ErrUnknownSKU)
	assert.Equal(t, counts(1, 0, 0), countsOf(s.stock(t, known)))
}

func (s *suite) testRelease(t *testing.T) {
	sku := s.sku(t, 5)
	held, sold := uuid.NewString(), uuid.NewString()
	s.reserve(t, held, inventory.Item{SKU: sku, Quantity: 2})
	s.reserve(t, sold, inventory.Item{SKU: sku, Quantity: 1})
	_, err := s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: sold})
	require.NoError(t, err)
	assert.Equal(t, counts(2, 2, 1), countsOf(s.stock(t, sku)))
	for range 2 {
		r, err := s.svc.Release(s.ctx, inventory.ReleaseRequest{OrderID: held})
		require.NoError(t, err)
		assert.Equal(t, inventory.StatusReleased, r.Status)
		assert.Equal(t, []inventory.Item{{SKU: sku, Quantity: 2}}, r.Items)
	}
	assert.Equal(t, counts(4, 0, 1), countsOf(s.stock(t, sku)), "held stock given back once")
	for range 2 {
		_, err := s.svc.Release(s.ctx, inventory.ReleaseRequest{OrderID: sold})
		require.NoError(t, err)
	}
	assert.Equal(t, counts(5, 0, 0), countsOf(s.stock(t, sku)), "sold stock given back once")
	_, err = s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: held, Items: []inventory.Item{{SKU: sku, Quantity: 1}}})
	require.ErrorIs(t, err, inventory.ErrReleased)
}

func (s *suite) testReleaseFirst(t *testing.T) {
	sku := s.sku(t, 3)
	order := uuid.NewString()
	r, err := s.svc.Release(s.ctx, inventory.ReleaseRequest{OrderID: order})
	require.NoError(t, err)
	assert.Equal(t, inventory.Reservation{OrderID: order, Status: inventory.StatusReleased, Items: []inventory.Item{}}, r)
	_, err = s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: order, Items: []inventory.Item{{SKU: sku, Quantity: 1}}})
	require.ErrorIs(t, err, inventory.ErrReleased, "a late reserve holds nothing")
	assert.Equal(t, "inventory.reservation_released", problem.CodeOf(err).Code)
	assert.Equal(t, counts(3, 0, 0), countsOf(s.stock(t, sku)))
	_, err = s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: order})
	require.ErrorIs(t, err, inventory.ErrReleased)
}

func (s *suite) testCommit(t *testing.T) {
	sku := s.sku(t, 4)
	order := uuid.NewString()
	s.reserve(t, order, inventory.Item{SKU: sku, Quantity: 3})
	for range 2 {
		r, err := s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: order})
		require.NoError(t, err)
		assert.Equal(t, inventory.StatusCommitted, r.Status)
	}
	assert.Equal(t, counts(1, 0, 3), countsOf(s.stock(t, sku)), "sold once")
	r := s.reserve(t, order, inventory.Item{SKU: sku, Quantity: 1})
	assert.Equal(t, inventory.StatusCommitted, r.Status, "a repeated reserve after commit changes nothing")
	_, err := s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: uuid.NewString()})
	require.ErrorIs(t, err, inventory.ErrReservationNotFound)
}

func (s *suite) testConcurrent(t *testing.T) {
	const stocked, buyers = 3, 8
	sku := s.sku(t, stocked)
	order := uuid.NewString()
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		ok, out, other int
	)
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uuid.NewString()
			if i < 2 {
				id = order // two at once for one order: one effect
			}
			_, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: id, Items: []inventory.Item{{SKU: sku, Quantity: 1}}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, inventory.ErrOutOfStock):
				out++
			default:
				other++
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	st := s.stock(t, sku)
	assert.Zero(t, other)
	assert.Equal(t, int64(0), st.Available, "every unit held")
	assert.Equal(t, int64(stocked), st.Reserved, "never more than stocked")
	assert.Equal(t, buyers, ok+out)
	assert.GreaterOrEqual(t, ok, stocked, "the two repeats of one order both succeed on one unit")
}

func (s *suite) testValidation(t *testing.T) {
	long := strings.Repeat("é", inventory.MaxSKULength+1)
	for name, tc := range map[string]struct {
		call   func() error
		fields []string
	}{
		"reserve, empty": {func() error {
			_, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{})
			return err
		}, []string{"order_id", "items"}},
		"reserve, bad item": {func() error {
			_, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: "o", Items: []inventory.Item{{SKU: long, Quantity: 0}}})
			return err
		}, []string{"items[0].sku", "items[0].quantity"}},
		"restock, negative": {func() error {
			_, err := s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: "", Quantity: -1})
			return err
		}, []string{"sku", "quantity"}},
		"restock, long key": {func() error {
			_, err := s.svc.Restock(s.ctx, inventory.RestockRequest{SKU: "S", Quantity: 1, IdempotencyKey: strings.Repeat("k", inventory.MaxKeyLength+1)})
			return err
		}, []string{"idempotency_key"}},
		"release, no order": {func() error {
			_, err := s.svc.Release(s.ctx, inventory.ReleaseRequest{})
			return err
		}, []string{"order_id"}},
		"commit, long order": {func() error {
			_, err := s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: long})
			return err
		}, []string{"order_id"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, problem.ErrValidation)
			var ve *problem.ValidationError
			require.True(t, errors.As(err, &ve), "%T is not a *problem.ValidationError", err)
			assert.Equal(t, tc.fields, ve.FieldNames())
		})
	}
}

// testConcurrentLastUnits races orders for the last units of two SKUs,
// each order asking for both (in either order, so their rows are met in
// both orders), while the successful ones are committed or released at
// once: every answer is a reservation or out_of_stock (no deadlock, no
// other error), no count goes below zero, and what was held, sold and
// given back adds up to what was stocked.
func (s *suite) testConcurrentLastUnits(t *testing.T) {
	const stocked, buyers = 6, 24
	a, b := s.sku(t, stocked), s.sku(t, stocked)
	var (
		wg                       sync.WaitGroup
		mu                       sync.Mutex
		reserved, out, committed int64
	)
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := []inventory.Item{{SKU: a, Quantity: 1}, {SKU: b, Quantity: 1 + int64(i%2)}}
			if i%3 == 0 {
				items[0], items[1] = items[1], items[0]
			}
			order := uuid.NewString()
			r, err := s.svc.Reserve(s.ctx, inventory.ReserveRequest{OrderID: order, Items: items})
			switch {
			case errors.Is(err, inventory.ErrOutOfStock):
				assert.Equal(t, "inventory.out_of_stock", problem.CodeOf(err).Code)
				mu.Lock()
				out++
				mu.Unlock()
				return
			case !assert.NoError(t, err, "reserve"):
				return
			}
			assert.Equal(t, inventory.StatusReserved, r.Status)
			mu.Lock()
			reserved++
			mu.Unlock()
			if i%2 == 0 {
				_, err = s.svc.Commit(s.ctx, inventory.CommitRequest{OrderID: order})
				assert.NoError(t, err, "commit")
				mu.Lock()
				committed += items[0].Quantity + items[1].Quantity
				mu.Unlock()
				return
			}
			_, err = s.svc.Release(s.ctx, inventory.ReleaseRequest{OrderID: order})
			assert.NoError(t, err, "release")
		}()
	}
	wg.Wait()
	st := []inventory.Stock{s.stock(t, a), s.stock(t, b)}
	for _, x := range st {
		assert.GreaterOrEqual(t, x.Available, int64(0), "%+v", x)
		assert.Zero(t, x.Reserved, "every reservation committed or released: %+v", x)
	}
	assert.Equal(t, int64(buyers), reserved+out, "every order answered a reservation or out_of_stock")
	assert.Positive(t, out, "the last units ran out")
	assert.Positive(t, reserved)
	assert.Equal(t, committed, st[0].Sold+st[1].Sold, "sold what was committed")
	assert.LessOrEqual(t, st[1].Sold, int64(stocked), "never more than stocked")
}
