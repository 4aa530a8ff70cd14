package events_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
)

// TestABadEnvelopeIsAClientErrorNotA500: an envelope the inbox cannot
// store (an id that is no UUID, NUL bytes) is refused as invalid before it
// reaches the database, which would answer with a 500.
func TestABadEnvelopeIsAClientErrorNotA500(t *testing.T) {
	w := newWorld(t, record)
	e := httpserver.New(config.Config{}, quiet)
	events.Mount(e, w.bus)
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"id not a uuid", `{"id":"x","type":"thing.made","aggregate_id":"a","source":"pub","payload":{"n":1}}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"no id", `{"type":"thing.made","aggregate_id":"a","source":"pub","payload":{"n":1}}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"no source", `{"id":"0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"thing.made","aggregate_id":"a","payload":{"n":1}}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"no payload", `{"id":"1b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"thing.made","aggregate_id":"a","source":"pub"}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"NUL in source", `{"id":"2b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"thing.made","aggregate_id":"a","source":"p\u0000b","payload":{"n":1}}`, http.StatusBadRequest, problem.ErrBadRequest.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/internal/sub/events", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), `"code":"`+tc.code+`"`)
		})
	}
	assert.Empty(t, w.effects(t, "a"))
}
