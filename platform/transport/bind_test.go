package transport_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// order is shaped like the largest request of the API.
type order struct {
	Items []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"items"`
}

type deposit struct {
	AmountCents int64 `json:"amount_cents"`
	Note        any   `json:"note"`
}

// requireMalformed checks a 400 naming field, with a message containing msg.
func requireMalformed(t *testing.T, err error, field, msg string) {
	t.Helper()
	require.ErrorIs(t, err, problem.ErrBadRequest)
	var ve *problem.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	require.Len(t, ve.Fields, 1, "%v", err)
	assert.Equal(t, field, ve.Fields[0].Field)
	assert.Contains(t, ve.Fields[0].Message, msg)
}

func TestDecodeRefusesMembersNamedTwice(t *testing.T) {
	for name, tc := range map[string]struct{ body, field string }{
		"exact":                {`{"amount_cents":5,"amount_cents":700}`, "amount_cents"},
		"other case":           {`{"amount_cents":5,"Amount_Cents":700}`, "Amount_Cents"},
		"upper case":           {`{"AMOUNT_CENTS":5,"amount_cents":700}`, "amount_cents"},
		"escaped":              {`{"amount_cents":5,"amount_\u0063ents":700}`, "amount_cents"},
		"long s folds to s":    {`{"amount_cents":5,"amount_cent` + "\u017f" + `":700}`, "amount_cent\u017f"},
		"kelvin sign folds":    {`{"note":{"k":1,"` + "\u212a" + `":2}}`, "note.\u212a"},
		"nested in an array":   {`{"note":[{"a":1},{"b":1,"B":2}]}`, "note[1].B"},
		"after a nested value": {`{"note":{"a":{"b":[1,{"c":2}]}},"NOTE":1}`, "NOTE"},
	} {
		t.Run(name, func(t *testing.T) {
			var d deposit
			requireMalformed(t, transport.Decode(strings.NewReader(tc.body), &d), tc.field, "")
			assert.Zero(t, d.AmountCents, "nothing decoded")
		})
	}
	// Names that differ by more than case are different members.
	var d deposit
	require.NoError(t, transport.Decode(strings.NewReader(`{"amount_cents":5,"note":{"a":1,"\u00e0":2,"a_":3}}`), &d))
	assert.EqualValues(t, 5, d.AmountCents)
}

func TestDecodeRefusesNUL(t *testing.T) {
	var d deposit
	requireMalformed(t, transport.Decode(strings.NewReader(`{"note":{"x":["a","b\u0000"]}}`), &d), "note.x[1]", "NUL")
	requireMalformed(t, transport.Decode(strings.NewReader(`{"note":{"x\u0000":1}}`), &d), "note.x\x00", "NUL")
	require.NoError(t, transport.Decode(strings.NewReader(`{"note":"\\u0000 is text here"}`), &d))
}

func TestDecodeCapsNesting(t *testing.T) {
	nested := func(depth int) string {
		return `{"note":` + strings.Repeat(`[`, depth-1) + strings.Repeat(`]`, depth-1) + `}`
	}
	var d deposit
	require.NoError(t, transport.Decode(strings.NewReader(nested(transport.MaxDepth)), &d), "64 levels are fine")
	requireMalformed(t, transport.Decode(strings.NewReader(nested(transport.MaxDepth+1)), &d), "body", "64 levels")
	requireMalformed(t, transport.Decode(strings.NewReader(strings.Repeat(`[`, 1<<20)), &d), "body", "64 levels")
	requireMalformed(t, transport.Decode(strings.NewReader(strings.Repeat(`{"a":`, 1000)), &d), "body", "64 levels")
}

func TestDecodeCapsArraysAndObjects(t *testing.T) {
	elements := func(n int) string { return `{"note":[` + strings.Repeat(`0,`, n-1) + `0]}` }
	members := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"note":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"m%d":0`, i)
		}
		return b.String() + `}}`
	}
	var d deposit
	require.NoError(t, transport.Decode(strings.NewReader(elements(transport.MaxElements)), &d))
	requireMalformed(t, transport.Decode(strings.NewReader(elements(transport.MaxElements+1)), &d), "note", "at most 10000 elements")
	require.NoError(t, transport.Decode(strings.NewReader(members(transport.MaxMembers)), &d))
	requireMalformed(t, transport.Decode(strings.NewReader(members(transport.MaxMembers+1)), &d), "note", "at most 1000 members")
	// Past the first few members the names are kept in a map: duplicates
	// are found there too.
	requireMalformed(t, transport.Decode(strings.NewReader(strings.Replace(members(20), `"m19"`, `"M3"`, 1)), &d), "note.M3", `"m3" again`)
}

// A hostile body of the largest size the server accepts costs a small
// multiple of its size to refuse, whatever its shape, bound to a request
// shaped like the largest of the API.
func TestDecodeMemoryIsBoundedByTheBody(t *testing.T) {
	const size = 1 << 20
	fill := func(head, unit, tail string) string {
		return head + strings.Repeat(unit, (size-len(head)-len(tail))/len(unit)) + tail
	}
	var keys strings.Builder
	keys.WriteString(`{"items":[{`)
	for i := 0; keys.Len() < size-32; i++ {
		fmt.Fprintf(&keys, `"k%d":0,`, i)
	}
	keys.WriteString(`"end":0}]}`)
	sku := strings.Repeat("S", size/transport.MaxElements-30)
	for name, body := range map[string]string{
		"open arrays":       strings.Repeat("[", size),
		"open objects":      fill("", `{"a":`, ""),
		"wide array":        fill(`{"items":[`, `0,`, `0]}`),
		"many members":      keys.String(),
		"one long string":   fill(`{"items":"`, `a`, `"}`),
		"escaped string":    fill(`{"items":"`, `\u00e9`, `"}`),
		"many short arrays": fill(`{"items":[`, `[],`, `[]]}`),
		"many objects":      fill(`{"items":[`, `{"a":1},`, `{}]}`),
		"mistyped items":    fill(`{"items":[`, `{"quantity":"1"},`, `{}]}`),
		"the most items":    `{"items":[` + strings.Repeat(`{"sku":"`+sku+`","quantity":0},`, transport.MaxElements-1) + `{}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			c := echo.New().NewContext(req, httptest.NewRecorder())
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var o order
			_ = transport.Bind(c, &o)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes allocated for a %d-byte body (%.1fx)", allocated, len(body), float64(allocated)/float64(len(body)))
			assert.Less(t, allocated, uint64(maxAllocFactor*len(body)), "a %d-byte body allocated %d bytes", len(body), allocated)
		})
	}
}

// maxAllocFactor bounds the bytes decoding may allocate per byte of body:
// reading the body, the decoder's own copy of it, and what it decodes.
const maxAllocFactor = 8
