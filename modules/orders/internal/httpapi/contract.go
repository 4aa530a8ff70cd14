package httpapi

import (
	"context"

	"mitosis/modules/orders"
	"mitosis/platform/contract"
)

// API declares each method of orders.Service once: its internal route, and
// whether a failed call may be sent again.
var API = contract.Define("orders", orders.Errors, func(s contract.Stub[orders.Service]) orders.Service { return stub{s} })

var (
	listProducts = contract.Read(API, orders.Service.ListProducts)
	// PlaceOrder is repeated only when it carries a key.
	placeOrder = contract.Keyed(API, orders.Service.PlaceOrder, func(in orders.PlaceOrderRequest) string { return in.IdempotencyKey })
	getOrder   = contract.Read(API, orders.Service.GetOrder)
	listOrders = contract.Read(API, orders.Service.ListOrders)
	// A cancelled order stays cancelled and is refunded once.
	cancelOrder     = contract.Idempotent(API, orders.Service.CancelOrder)
	getOrderHistory = contract.Read(API, orders.Service.GetOrderHistory)
)

// stub is orders.Service as its callers hold it: in-process (counted, one
// interface call from the implementation) or over HTTP.
type stub struct{ contract.Stub[orders.Service] }

var _ orders.Service = stub{}

func (s stub) ListProducts(ctx context.Context, in orders.ListProductsRequest) (out orders.ProductList, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.ListProducts(ctx, in)
		return out, contract.Done(s.Stub, listProducts, err)
	}
	return contract.Call(s.Stub, listProducts, ctx, in)
}

func (s stub) PlaceOrder(ctx context.Context, in orders.PlaceOrderRequest) (out orders.Order, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.PlaceOrder(ctx, in)
		return out, contract.Done(s.Stub, placeOrder, err)
	}
	return contract.Call(s.Stub, placeOrder, ctx, in)
}

func (s stub) GetOrder(ctx context.Context, in orders.GetOrderRequest) (out orders.Order, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetOrder(ctx, in)
		return out, contract.Done(s.Stub, getOrder, err)
	}
	return contract.Call(s.Stub, getOrder, ctx, in)
}

func (s stub) ListOrders(ctx context.Context, in orders.ListOrdersRequest) (out orders.OrderPage, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.ListOrders(ctx, in)
		return out, contract.Done(s.Stub, listOrders, err)
	}
	return contract.Call(s.Stub, listOrders, ctx, in)
}

func (s stub) CancelOrder(ctx context.Context, in orders.CancelOrderRequest) (out orders.Order, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.CancelOrder(ctx, in)
		return out, contract.Done(s.Stub, cancelOrder, err)
	}
	return contract.Call(s.Stub, cancelOrder, ctx, in)
}

func (s stub) GetOrderHistory(ctx context.Context, in orders.GetOrderRequest) (out orders.OrderHistory, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetOrderHistory(ctx, in)
		return out, contract.Done(s.Stub, getOrderHistory, err)
	}
	return contract.Call(s.Stub, getOrderHistory, ctx, in)
}
