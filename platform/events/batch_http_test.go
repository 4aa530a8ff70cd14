package events_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// remote serves w's subscriber over loopback HTTP, counting the batch
// requests, and returns a deliverer of a process where sub is remote.
func (w world) remote(t *testing.T) (events.DeliverBatchFunc, *atomic.Int32) {
	t.Helper()
	var posts atomic.Int32
	e := httpserver.New(config.Config{}, quiet)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Path() == events.BatchPath {
				posts.Add(1)
			}
			return next(c)
		}
	})
	events.Mount(e, w.bus)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	cfg := config.Config{Calls: config.Calls{Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond, MaxConcurrency: 8, BreakerFailures: 100, BreakerCooldown: time.Second}}
	place := topology.Manual(nil, map[string]string{"sub": srv.URL})
	return events.NewDeliverer(events.NewBus(), place, transport.NewFactory(cfg, nil, quiet), nil), &posts
}

// Over HTTP a relay delivers a claimed batch in one request.
func TestRelayDeliversABatchInOneRequestOverHTTP(t *testing.T) {
	w := newWorld(t, record)
	deliver, posts := w.remote(t)
	for i := range 25 {
		w.publish(t, fmt.Sprintf("agg-%d", i), 1)
	}
	r := w.relay(deliver)
	for range 3 {
		n, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		require.Positive(t, n)
	}
	assert.Equal(t, 25, count(t, w.sub, "SELECT count(*) FROM effects"))
	assert.EqualValues(t, 3, posts.Load(), "batches of EVENTS_BATCH_SIZE (10): one request each")
	w.requireDrained(t)
}

// Each event of a batch sent over HTTP keeps its own outcome, and its
// error keeps its identity: a type the subscriber does not handle comes
// back as ErrNoHandler, a handler's failure as an internal error, an
// envelope the wire cannot carry fails before it is sent; the others are
// applied.
func TestABatchOverHTTPReportsEachEventsOutcome(t *testing.T) {
	w := newWorld(t, func(ctx context.Context, tx bun.Tx, e events.Event) error {
		if e.AggregateID == "poison" {
			return errors.New("cannot handle this one")
		}
		return record(ctx, tx, e)
	})
	deliver, posts := w.remote(t)
	unknown := made(t, "x", 1)
	unknown.Type = "thing.unknown"
	unsendable := made(t, "y", 1)
	unsendable.Payload = []byte(`{"n":`)
	good, again := made(t, "a", 1), made(t, "b", 1)
	errs := deliver(context.Background(), "sub", []events.Event{good, unknown, made(t, "poison", 1), unsendable, again, good})
	require.Len(t, errs, 6)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], events.ErrNoHandler)
	require.Error(t, errs[2])
	assert.Equal(t, problem.ErrInternal, problem.CodeOf(errs[2]), "a handler's failure is internal across the wire too")
	require.Error(t, errs[3])
	assert.Contains(t, errs[3].Error(), "encode thing.made "+unsendable.ID)
	require.NoError(t, errs[4])
	require.NoError(t, errs[5], "a repeat of an applied event is acknowledged")
	assert.EqualValues(t, 1, posts.Load())
	assert.Equal(t, []int{1}, w.effects(t, "a"))
	assert.Equal(t, []int{1}, w.effects(t, "b"))
	assert.Empty(t, w.effects(t, "poison"))
}

// A batch larger than a request may carry goes in several requests.
func TestABatchLargerThanARequestIsSplit(t *testing.T) {
	w := newWorld(t, record)
	deliver, posts := w.remote(t)
	pad := strings.Repeat("x", 200<<10)
	batch := make([]events.Event, 6)
	for i := range batch {
		e, err := events.New("pub", "thing.made", fmt.Sprintf("big-%d", i), map[string]any{"n": i, "pad": pad})
		require.NoError(t, err)
		batch[i] = e
	}
	errs := deliver(context.Background(), "sub", batch)
	require.Equal(t, make([]error, 6), errs)
	assert.Equal(t, 6, count(t, w.sub, "SELECT count(*) FROM effects"))
	assert.EqualValues(t, 3, posts.Load(), "200 KiB events, two to a request")
}

// The batch endpoint refuses a malformed request as a whole with a coded
// problem, and an envelope the inbox could not store alone.
func TestTheBatchEndpointRefusesBadInputWithProblems(t *testing.T) {
	w := newWorld(t, record)
	e := httpserver.New(config.Config{}, quiet)
	events.Mount(e, w.bus)
	post := func(path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	envelope := func(id, aggregate string) string {
		return `{"id":"` + id + `","type":"thing.made","aggregate_id":"` + aggregate + `","source":"pub","payload":{"n":1},"occurred_at":"2026-01-01T00:00:00Z"}`
	}
	tooMany := strings.Repeat(envelope("0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", "a")+",", events.MaxBatchEvents) + envelope("0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", "a")
	cases := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"not JSON", "/internal/sub/events/batch", `{"events":[`, http.StatusBadRequest, problem.ErrBadRequest.Code},
		{"events not a list", "/internal/sub/events/batch", `{"events":{}}`, http.StatusBadRequest, problem.ErrBadRequest.Code},
		{"unknown member", "/internal/sub/events/batch", `{"events":[],"more":1}`, http.StatusBadRequest, problem.ErrBadRequest.Code},
		{"no events", "/internal/sub/events/batch", `{"events":[]}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"too many events", "/internal/sub/events/batch", `{"events":[` + tooMany + `]}`, http.StatusUnprocessableEntity, problem.ErrValidation.Code},
		{"NUL in an envelope", "/internal/sub/events/batch", `{"events":[` + envelope("1b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", `a\u0000`) + `]}`, http.StatusBadRequest, problem.ErrBadRequest.Code},
		{"no such subscriber here", "/internal/nobody/events/batch", `{"events":[` + envelope("2b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", "a") + `]}`, http.StatusNotFound, events.ErrUnknownSubscriber.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(tc.path, tc.body)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), `"code":"`+tc.code+`"`)
		})
	}
	assert.Zero(t, count(t, w.sub, "SELECT count(*) FROM effects"), "nothing of a refused request applied")

	// One envelope that is no event (its id is no UUID) fails alone.
	rec := post("/internal/sub/events/batch", `{"events":[`+envelope("not-a-uuid", "a")+`,`+envelope("3b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", "b")+`]}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"failed":[{"index":0,"problem":{"type":"about:blank","title":"Validation failed","status":422,"code":"validation_failed",
		"errors":[{"field":"id","message":"must be a UUID"}]}}]}`, rec.Body.String())
	assert.Empty(t, w.effects(t, "a"))
	assert.Equal(t, []int{1}, w.effects(t, "b"))
}
