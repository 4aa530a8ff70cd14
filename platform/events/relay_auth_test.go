package events_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// swappable is the publisher's credentials, which the test changes between
// attempts; a nil current sends none.
type swappable struct {
	current atomic.Pointer[auth.ServiceAuth]
}

func (s *swappable) Apply(h http.Header, caller, callee string) error {
	if c := s.current.Load(); c != nil {
		return c.Apply(h, caller, callee)
	}
	return nil
}

// TestRelayOverHTTPNeedsServiceCredentials: the subscriber's process guards
// /internal/ as a real one does. A delivery without credentials, or with a
// token signed by another secret, is refused and stays pending to be
// retried, with nothing handled; with valid credentials the retry delivers.
func TestRelayOverHTTPNeedsServiceCredentials(t *testing.T) {
	secret := []byte("relay-secret-relay-secret-relay-secret-0123")
	w := newWorld(t, record)
	e := httpserver.New(config.Config{}, quiet)
	e.Use(auth.NewJWTServiceAuth(secret, "sub").GuardInternal)
	events.Mount(e, w.bus)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	creds := &swappable{}
	cfg := config.Config{Calls: config.Calls{Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond, MaxConcurrency: 8, BreakerFailures: 100, BreakerCooldown: time.Second}}
	place := topology.Manual(nil, map[string]string{"sub": srv.URL})
	deliver := events.NewDeliverer(events.NewBus(), place, transport.NewFactory(cfg, creds, quiet), nil)
	patient := fast
	patient.MaxAttempts = 100 // refusals must not dead-letter the event here
	r := events.NewRelay("pub", w.pub, func(string) []string { return []string{"sub"} }, deliver, patient, quiet)
	w.publish(t, "a", 1)

	refusedWith := func(name string, c *auth.ServiceAuth) {
		t.Helper()
		creds.current.Store(c)
		before := count(t, w.pub, "SELECT coalesce(sum(attempts), 0) FROM event_deliveries")
		require.Eventually(t, func() bool {
			_, err := r.RunOnce(context.Background())
			require.NoError(t, err)
			return count(t, w.pub, "SELECT coalesce(sum(attempts), 0) FROM event_deliveries") > before
		}, 5*time.Second, 5*time.Millisecond, "%s: a delivery is attempted", name)
		assert.Equal(t, 1, count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'pending' AND last_error ILIKE 'unauthorized%'"),
			"%s: refused and kept for a retry", name)
		assert.Empty(t, w.effects(t, "a"), "%s: nothing handled", name)
	}
	refusedWith("no credentials", nil)
	refusedWith("another secret", auth.NewJWTServiceAuth([]byte("not-the-secret-not-the-secret-not-the-secr"), "pub"))

	creds.current.Store(auth.NewJWTServiceAuth(secret, "pub"))
	require.Eventually(t, func() bool {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
		return count(t, w.pub, "SELECT count(*) FROM event_deliveries WHERE status = 'delivered'") == 1
	}, 5*time.Second, 5*time.Millisecond, "the retry with valid credentials delivers")
	assert.Equal(t, []int{1}, w.effects(t, "a"))
}
