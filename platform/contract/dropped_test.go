package contract

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type inner struct {
	Name   string `json:"name"`
	secret int
}

type promoted struct{ Shown string }

type request struct {
	promoted
	At      time.Time         `json:"at"`  // unexported fields inside, but it encodes itself
	Raw     json.RawMessage   `json:"raw"` // a []byte that encodes itself
	Items   []inner           `json:"items"`
	ByKey   map[string]*inner `json:"by_key"`
	Any     any               `json:"any"`
	Skipped string            `json:"-"`
	hidden  string
}

// dropped names the part of a request JSON would leave out although it
// holds a value, and nothing else.
func TestDroppedNamesWhatJSONWouldLeaveOut(t *testing.T) {
	full := request{promoted: promoted{Shown: "yes"}, At: time.Now(), Raw: json.RawMessage(`{}`),
		Items: []inner{{Name: "a"}}, ByKey: map[string]*inner{"k": {Name: "b"}}, Any: inner{Name: "c"}}
	for name, tc := range map[string]struct {
		in   any
		want string
	}{
		"all crosses":         {full, ""},
		"a pointer to it":     {&full, ""},
		"nil":                 {nil, ""},
		"zero hidden fields":  {request{}, ""},
		"unexported":          {request{hidden: "x"}, "request.hidden"},
		`tagged "-"`:          {request{Skipped: "x"}, "request.Skipped"},
		"in a slice element":  {request{Items: []inner{{}, {secret: 1}}}, "request.items[1].secret"},
		"in a map value":      {request{ByKey: map[string]*inner{"k": {secret: 1}}}, "request.by_key[k].secret"},
		"behind an interface": {request{Any: inner{secret: 1}}, "request.any.secret"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, dropped(reflect.ValueOf(tc.in), "request"))
		})
	}
}
