package contract_test

import (
	"context"
	"errors"
	"net/http"

	"mitosis/platform/contract"
	"mitosis/platform/problem"
)

// shop is a toy module contract, declared the way modules declare theirs.
type shop interface {
	Buy(ctx context.Context, in buyRequest) (receipt, error)
	GetPrice(ctx context.Context, in priceRequest) (price, error)
	Restock(ctx context.Context, in priceRequest) (price, error)
}

type buyRequest struct {
	SKU string `json:"sku"`
	Key string `json:"key"`
}

type receipt struct {
	SKU    string `json:"sku"`
	Caller string `json:"caller"` // who the callee saw calling
}

type priceRequest struct {
	SKU string `json:"sku"`
}

type price struct {
	Cents int64 `json:"cents"`
}

var errSoldOut = problem.New("shop.sold_out", http.StatusConflict, "Sold out")

var (
	shopAPI = contract.Define("shop", []*problem.Error{errSoldOut}, func(s contract.Stub[shop]) shop { return shopStub{s} })
	buy     = contract.Keyed(shopAPI, shop.Buy, func(in buyRequest) string { return in.Key })
	getP    = contract.Read(shopAPI, shop.GetPrice)
	restock = contract.Unsafe(shopAPI, shop.Restock)
)

type shopStub struct{ contract.Stub[shop] }

func (s shopStub) Buy(ctx context.Context, in buyRequest) (out receipt, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Buy(ctx, in)
		return out, contract.Done(s.Stub, buy, err)
	}
	return contract.Call(s.Stub, buy, ctx, in)
}

func (s shopStub) GetPrice(ctx context.Context, in priceRequest) (out price, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetPrice(ctx, in)
		return out, contract.Done(s.Stub, getP, err)
	}
	return contract.Call(s.Stub, getP, ctx, in)
}

func (s shopStub) Restock(ctx context.Context, in priceRequest) (out price, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Restock(ctx, in)
		return out, contract.Done(s.Stub, restock, err)
	}
	return contract.Call(s.Stub, restock, ctx, in)
}

// store is the shop's implementation: "gone" is sold out, "boom" fails
// without a code; Restock counts its calls.
type store struct {
	callerOf func(context.Context) string
	restocks int
}

func (s *store) Buy(ctx context.Context, in buyRequest) (receipt, error) {
	switch in.SKU {
	case "gone":
		return receipt{}, errSoldOut
	case "boom":
		return receipt{}, errors.New("disk on fire")
	}
	r := receipt{SKU: in.SKU}
	if s.callerOf != nil {
		r.Caller = s.callerOf(ctx)
	}
	return r, nil
}

func (s *store) GetPrice(_ context.Context, in priceRequest) (price, error) {
	if in.SKU == "" {
		return price{}, problem.Invalid("sku", "is required")
	}
	return price{Cents: int64(len(in.SKU)) * 100}, nil
}

func (s *store) Restock(context.Context, priceRequest) (price, error) {
	s.restocks++
	return price{}, problem.ErrUnavailable
}
