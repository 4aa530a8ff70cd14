package contract_test

import (
	"context"
	"testing"

	"mitosis/platform/contract"
)

var sinkReceipt receipt

func BenchmarkLocalCall(b *testing.B) {
	impl := &store{}
	s := contract.ForCaller(shopAPI.Local(impl, contract.NewRegistry()), "orders")
	var direct shop = impl
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   buyRequest
	}{{"ok", buyRequest{SKU: "tea"}}, {"sentinel", buyRequest{SKU: "gone"}}} {
		b.Run(tc.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkReceipt, _ = direct.Buy(ctx, tc.in)
			}
		})
		b.Run(tc.name+"/stub", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkReceipt, _ = s.Buy(ctx, tc.in)
			}
		})
	}
}
