package httpapi

import (
	"context"
	"net/http"

	"mitosis/modules/orders"
	"mitosis/platform/transport"
)

// Client is orders.Service over HTTP, for processes where orders runs elsewhere.
type Client struct{ c *transport.Client }

var _ orders.Service = (*Client)(nil)

// NewClient wraps a transport client pointed at the orders module.
func NewClient(c *transport.Client) *Client { return &Client{c: c} }

// ListProducts calls ListProducts remotely.
func (cl *Client) ListProducts(ctx context.Context, in orders.ListProductsRequest) (orders.ProductList, error) {
	return transport.Invoke[orders.ProductList](ctx, cl.c, transport.Read, http.MethodPost, internalListProducts, in)
}

// PlaceOrder calls PlaceOrder remotely, repeated only when it carries a key.
func (cl *Client) PlaceOrder(ctx context.Context, in orders.PlaceOrderRequest) (orders.Order, error) {
	return transport.Invoke[orders.Order](ctx, cl.c, transport.Keyed(in.IdempotencyKey), http.MethodPost, internalPlace, in)
}

// GetOrder calls GetOrder remotely.
func (cl *Client) GetOrder(ctx context.Context, in orders.GetOrderRequest) (orders.Order, error) {
	return transport.Invoke[orders.Order](ctx, cl.c, transport.Read, http.MethodPost, internalGet, in)
}

// ListOrders calls ListOrders remotely.
func (cl *Client) ListOrders(ctx context.Context, in orders.ListOrdersRequest) (orders.OrderPage, error) {
	return transport.Invoke[orders.OrderPage](ctx, cl.c, transport.Read, http.MethodPost, internalList, in)
}

// CancelOrder calls CancelOrder remotely; a cancelled order stays cancelled
// and is refunded once, so it is safe to repeat.
func (cl *Client) CancelOrder(ctx context.Context, in orders.CancelOrderRequest) (orders.Order, error) {
	return transport.Invoke[orders.Order](ctx, cl.c, transport.Idempotent, http.MethodPost, internalCancel, in)
}

// GetOrderHistory calls GetOrderHistory remotely.
func (cl *Client) GetOrderHistory(ctx context.Context, in orders.GetOrderRequest) (orders.OrderHistory, error) {
	return transport.Invoke[orders.OrderHistory](ctx, cl.c, transport.Read, http.MethodPost, internalHistory, in)
}
