package httpapi

import (
	"testing"

	"mitosis/platform/transport/transporttest"
)

func FuzzBindPlaceOrder(f *testing.F) {
	transporttest.FuzzBind[placeBody](f,
		`{"items":[{"sku":"COFFEE-1KG","quantity":2}]}`, `{"items":[{"sku":"X","quantity":-5}]}`,
		`{"items":{"sku":"X"}}`, `{"items":[{"sku":"X","quantity":1e3}]}`, `{"items":[{"sku":"' OR 1=1--","quantity":9223372036854775808}]}`,
		`{"items":[null]}`, `{"items":[{"sku":"X","qty":1}]}`)
}
