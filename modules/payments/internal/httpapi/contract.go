package httpapi

import (
	"context"

	"mitosis/modules/payments"
	"mitosis/platform/contract"
)

// API declares each method of payments.Service once: its internal route,
// and whether a failed call may be sent again.
var API = contract.Define("payments", payments.Errors, func(s contract.Stub[payments.Service]) payments.Service { return stub{s} })

var (
	// Deposit is repeated only when it carries a key.
	deposit   = contract.Keyed(API, payments.Service.Deposit, func(in payments.DepositRequest) string { return in.IdempotencyKey })
	getWallet = contract.Read(API, payments.Service.GetWallet)
	// Charge's key makes it safe to repeat.
	charge = contract.Keyed(API, payments.Service.Charge, func(in payments.ChargeRequest) string { return in.IdempotencyKey })
	// A payment is refunded once however often it is asked.
	refund = contract.Idempotent(API, payments.Service.Refund)
	// Voiding a key twice voids it once.
	voidCharge   = contract.Idempotent(API, payments.Service.VoidCharge)
	getPayment   = contract.Read(API, payments.Service.GetPayment)
	listPayments = contract.Read(API, payments.Service.ListPayments)
)

// stub is payments.Service as its callers hold it: in-process (counted, one
// interface call from the implementation) or over HTTP.
type stub struct {
	contract.Stub[payments.Service]
}

var _ payments.Service = stub{}

func (s stub) Deposit(ctx context.Context, in payments.DepositRequest) (out payments.Wallet, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Deposit(ctx, in)
		return out, contract.Done(s.Stub, deposit, err)
	}
	return contract.Call(s.Stub, deposit, ctx, in)
}

func (s stub) GetWallet(ctx context.Context, in payments.WalletRequest) (out payments.Wallet, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetWallet(ctx, in)
		return out, contract.Done(s.Stub, getWallet, err)
	}
	return contract.Call(s.Stub, getWallet, ctx, in)
}

func (s stub) Charge(ctx context.Context, in payments.ChargeRequest) (out payments.Payment, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Charge(ctx, in)
		return out, contract.Done(s.Stub, charge, err)
	}
	return contract.Call(s.Stub, charge, ctx, in)
}

func (s stub) Refund(ctx context.Context, in payments.RefundRequest) (out payments.Payment, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Refund(ctx, in)
		return out, contract.Done(s.Stub, refund, err)
	}
	return contract.Call(s.Stub, refund, ctx, in)
}

func (s stub) VoidCharge(ctx context.Context, in payments.VoidChargeRequest) (out payments.Void, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.VoidCharge(ctx, in)
		return out, contract.Done(s.Stub, voidCharge, err)
	}
	return contract.Call(s.Stub, voidCharge, ctx, in)
}

func (s stub) GetPayment(ctx context.Context, in payments.GetPaymentRequest) (out payments.Payment, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.GetPayment(ctx, in)
		return out, contract.Done(s.Stub, getPayment, err)
	}
	return contract.Call(s.Stub, getPayment, ctx, in)
}

func (s stub) ListPayments(ctx context.Context, in payments.ListPaymentsRequest) (out payments.PaymentList, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.ListPayments(ctx, in)
		return out, contract.Done(s.Stub, listPayments, err)
	}
	return contract.Call(s.Stub, listPayments, ctx, in)
}
