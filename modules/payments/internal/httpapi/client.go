package httpapi

import (
	"context"
	"net/http"

	"mitosis/modules/payments"
	"mitosis/platform/transport"
)

// Client is payments.Service over HTTP, for processes where payments runs elsewhere.
type Client struct{ c *transport.Client }

var _ payments.Service = (*Client)(nil)

// NewClient wraps a transport client pointed at the payments module.
func NewClient(c *transport.Client) *Client { return &Client{c: c} }

// Deposit calls Deposit remotely, repeated only when it carries a key.
func (cl *Client) Deposit(ctx context.Context, in payments.DepositRequest) (payments.Wallet, error) {
	return transport.Invoke[payments.Wallet](ctx, cl.c, transport.Keyed(in.IdempotencyKey), http.MethodPost, internalDeposit, in)
}

// GetWallet calls GetWallet remotely.
func (cl *Client) GetWallet(ctx context.Context, in payments.WalletRequest) (payments.Wallet, error) {
	return transport.Invoke[payments.Wallet](ctx, cl.c, transport.Read, http.MethodPost, internalGetWallet, in)
}

// Charge calls Charge remotely; its key makes it safe to repeat.
func (cl *Client) Charge(ctx context.Context, in payments.ChargeRequest) (payments.Payment, error) {
	return transport.Invoke[payments.Payment](ctx, cl.c, transport.Keyed(in.IdempotencyKey), http.MethodPost, internalCharge, in)
}

// Refund calls Refund remotely; a payment is refunded once however often
// it is asked.
func (cl *Client) Refund(ctx context.Context, in payments.RefundRequest) (payments.Payment, error) {
	return transport.Invoke[payments.Payment](ctx, cl.c, transport.Idempotent, http.MethodPost, internalRefund, in)
}

// VoidCharge calls VoidCharge remotely; voiding a key twice voids it once.
func (cl *Client) VoidCharge(ctx context.Context, in payments.VoidChargeRequest) (payments.Void, error) {
	return transport.Invoke[payments.Void](ctx, cl.c, transport.Idempotent, http.MethodPost, internalVoidCharge, in)
}

// GetPayment calls GetPayment remotely.
func (cl *Client) GetPayment(ctx context.Context, in payments.GetPaymentRequest) (payments.Payment, error) {
	return transport.Invoke[payments.Payment](ctx, cl.c, transport.Read, http.MethodPost, internalGetPayment, in)
}

// ListPayments calls ListPayments remotely.
func (cl *Client) ListPayments(ctx context.Context, in payments.ListPaymentsRequest) (payments.PaymentList, error) {
	return transport.Invoke[payments.PaymentList](ctx, cl.c, transport.Read, http.MethodPost, internalListPayments, in)
}
