package httpapi

import (
	"context"

	"mitosis/modules/inventory"
	"mitosis/platform/contract"
)

// API declares each method of inventory.Service once: its internal route,
// and whether a failed call may be sent again.
var API = contract.Define(inventory.Name, inventory.Errors, func(s contract.Stub[inventory.Service]) inventory.Service { return stub{s} })

var (
	getStock = contract.Read(API, inventory.Service.GetStock)
	// A repeated restock would add twice: sent again only with its key.
	restock = contract.Keyed(API, inventory.Service.Restock, func(in inventory.RestockRequest) string { return in.IdempotencyKey })
	// Reserve, Release and Commit are keyed by the order in their body:
	// a repeat has the first one's effect.
	reserve = contract.Idempotent(API, inventory.Service.Reserve)
	release = contract.Idempotent(API, inventory.Service.Release)
	commit  = contract.Idempotent(API, inventory.Service.Commit)
)

// stub is inventory.Service as its callers hold it: in-process (counted, one
// interface call from the implementation) or over HTTP.
type stub struct {
	contract.Stub[inventory.Service]
}

var _ inventory.Service = stub{}

func (s stub) GetStock(ctx context.Context, in inventory.StockRequest) (out inventory.StockList, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetStock(ctx, in)
		return out, contract.Done(s.Stub, getStock, err)
	}
	return contract.Call(s.Stub, getStock, ctx, in)
}

func (s stub) Restock(ctx context.Context, in inventory.RestockRequest) (out inventory.Stock, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Restock(ctx, in)
		return out, contract.Done(s.Stub, restock, err)
	}
	return contract.Call(s.Stub, restock, ctx, in)
}

func (s stub) Reserve(ctx context.Context, in inventory.ReserveRequest) (out inventory.Reservation, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Reserve(ctx, in)
		return out, contract.Done(s.Stub, reserve, err)
	}
	return contract.Call(s.Stub, reserve, ctx, in)
}

func (s stub) Release(ctx context.Context, in inventory.ReleaseRequest) (out inventory.Reservation, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Release(ctx, in)
		return out, contract.Done(s.Stub, release, err)
	}
	return contract.Call(s.Stub, release, ctx, in)
}

func (s stub) Commit(ctx context.Context, in inventory.CommitRequest) (out inventory.Reservation, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Commit(ctx, in)
		return out, contract.Done(s.Stub, commit, err)
	}
	return contract.Call(s.Stub, commit, ctx, in)
}
