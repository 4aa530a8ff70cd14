package httpapi

import (
	"testing"

	"mitosis/platform/transport/transporttest"
)

func FuzzBindDeposit(f *testing.F) {
	transporttest.FuzzBind[depositBody](f,
		`{"amount_cents":10000}`, `{"amount_cents":-1}`, `{"amount_cents":1.5}`,
		`{"amount_cents":99999999999999999999}`, `{"amount_cents":"100"}`, `{"amount_cents":1,"amount_cents":2}`)
}
