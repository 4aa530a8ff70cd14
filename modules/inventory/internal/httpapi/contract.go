package httpapi

import (
	"context"

	"mitosis/modules/inventory"
	"mitosis/platform/contract"
)

// API declares each method of inventory.Service once: its internal route,
// and whether a failed call may be sent again.
var API = contract.Define(inventory.Name, inventory.Errors, func(s contract.Stub[inventory.Service]) inventory.Service { return stub{s} })

// CreateItem is sent at most once: a repeat would find its name taken.
var createItem = contract.Unsafe(API, inventory.Service.CreateItem)

// stub is inventory.Service as its callers hold it: in-process (counted, one
// interface call from the implementation) or over HTTP.
type stub struct {
	contract.Stub[inventory.Service]
}

var _ inventory.Service = stub{}

func (s stub) CreateItem(ctx context.Context, in inventory.CreateItemRequest) (inventory.Item, error) {
	if impl, ok := s.Local(); ok {
		out, err := impl.CreateItem(ctx, in)
		return out, contract.Done(s.Stub, createItem, err)
	}
	return contract.Call(s.Stub, createItem, ctx, in)
}
