package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/telemetry"
	"mitosis/platform/telemetry/telemetrytest"
)

// A JWKS fetch serves every request waiting and outlives the one that
// started it: it is the root of a trace of its own, linked to that
// request, and users sees the fetch's trace, not the request's.
func TestAJWKSFetchIsNotPartOfTheRequestsTrace(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1)
	key := newKey(t)
	seen := make(chan string, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Traceparent")
		_ = json.NewEncoder(w).Encode(auth.JWKS{Keys: []auth.JWK{auth.PublicJWK(key.ID, public(key))}})
	}))
	t.Cleanup(hs.Close)
	remote := auth.NewRemoteKeys(hs.URL+auth.JWKSPath, hs.Client(), time.Hour, time.Second).Traced(tr.Tracer(telemetry.ProcessService))

	ctx, request := tr.Tracer("orders").Start(context.Background(), "request")
	_, err := remote.PublicKey(ctx, key.ID)
	require.NoError(t, err)
	request.End()
	tp := <-seen
	require.Len(t, tp, 55)
	reqTrace := request.SpanContext().TraceID().String()
	assert.NotEqual(t, reqTrace, tp[3:35], "users sees another trace")

	require.NoError(t, tr.ForceFlush(t.Context()))
	rcv.WaitFor(t, 5*time.Second, "the fetch", func([]telemetrytest.Span) bool { return len(rcv.Named("fetch JWKS")) == 1 })
	fetch := rcv.Named("fetch JWKS")[0]
	assert.Empty(t, fetch.ParentID)
	assert.Equal(t, tp[3:35], fetch.TraceID)
	assert.Equal(t, []telemetrytest.Link{{TraceID: reqTrace, SpanID: request.SpanContext().SpanID().String()}}, fetch.Links)
	assert.Equal(t, "client", fetch.Kind)
	assert.Equal(t, "200", fetch.Attributes["http.response.status_code"])
}
