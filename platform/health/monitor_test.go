package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/health"
)

// readiness probes url's /health/ready over real HTTP, as the transport
// client does.
func readiness(url string) health.Check {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health/ready", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("answered %d", resp.StatusCode)
		}
		return nil
	}
}

// remoteModule is a real HTTP server whose readiness the test sets, and
// which counts probes, and the most it saw at once.
type remoteModule struct {
	srv              *httptest.Server
	status           atomic.Int32
	hang             atomic.Bool
	probes, inFlight atomic.Int32
	maxInFlight      atomic.Int32
}

func newRemoteModule(t *testing.T) *remoteModule {
	m := &remoteModule{}
	m.status.Store(http.StatusOK)
	stop := make(chan struct{})
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.probes.Add(1)
		n := m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		for {
			old := m.maxInFlight.Load()
			if n <= old || m.maxInFlight.CompareAndSwap(old, n) {
				break
			}
		}
		if m.hang.Load() {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.WriteHeader(int(m.status.Load()))
	}))
	t.Cleanup(m.srv.Close)
	t.Cleanup(func() { close(stop) })
	return m
}

func status(t *testing.T, r *health.Registry, module string) string {
	t.Helper()
	rm, ok := r.Remote(module)
	require.True(t, ok)
	return rm.Status
}

// Unknown before the first check; then up or down as the module's
// readiness says, at start and every interval; unreachable is down.
func TestTheMonitorFollowsEachRemoteModulesReadiness(t *testing.T) {
	pay := newRemoteModule(t)
	r := health.NewRegistry()
	r.AddRemote("payments", pay.srv.URL, readiness(pay.srv.URL), nil)
	assert.Equal(t, health.Unknown, status(t, r, "payments"))

	m := r.Monitor(50 * time.Millisecond)
	m.Start()
	defer m.Stop()
	require.Eventually(t, func() bool { return status(t, r, "payments") == health.Up }, 5*time.Second, 10*time.Millisecond)

	pay.status.Store(http.StatusServiceUnavailable)
	require.Eventually(t, func() bool { return status(t, r, "payments") == health.Down }, 5*time.Second, 10*time.Millisecond)
	rm, _ := r.Remote("payments")
	assert.Contains(t, rm.Error, "503")

	pay.status.Store(http.StatusOK)
	require.Eventually(t, func() bool { return status(t, r, "payments") == health.Up }, 5*time.Second, 10*time.Millisecond)

	pay.srv.Close()
	require.Eventually(t, func() bool { return status(t, r, "payments") == health.Down }, 5*time.Second, 10*time.Millisecond)
}

// A remote module that hangs holds one probe at a time: the next round
// waits for the one in flight. Stop returns while the probe hangs.
//
// Probes are counted where the monitor makes them: the server may still be
// noticing the previous probe's cancelled connection when the next arrives.
func TestMonitorRoundsNeverOverlap(t *testing.T) {
	pay := newRemoteModule(t)
	pay.hang.Store(true)
	var inFlight, maxInFlight atomic.Int32
	probe := readiness(pay.srv.URL)
	counted := func(ctx context.Context) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := maxInFlight.Load(); n > old && !maxInFlight.CompareAndSwap(old, n); old = maxInFlight.Load() {
		}
		return probe(ctx)
	}
	r := health.NewRegistry()
	r.AddRemote("payments", pay.srv.URL, counted, nil)
	m := r.Monitor(10 * time.Millisecond)
	m.Start()
	require.Eventually(t, func() bool { return pay.probes.Load() >= 2 }, 10*time.Second, 10*time.Millisecond,
		"the probe timed out and the next round ran")
	assert.Equal(t, int32(1), maxInFlight.Load(), "rounds never overlap")
	assert.Equal(t, health.Down, status(t, r, "payments"), "a hung module is unhealthy")

	start := time.Now()
	m.Stop()
	assert.Less(t, time.Since(start), time.Second, "stop cuts the probe in flight")
	probes := pay.probes.Load()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, probes, pay.probes.Load(), "no probe after Stop")
}

// A round cut short by the monitor stopping keeps the last results.
func TestAStoppedRoundRecordsNothing(t *testing.T) {
	r := health.NewRegistry()
	r.AddRemote("payments", "", func(ctx context.Context) error { <-ctx.Done(); return errors.New("cut") }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.ProbeRemotes(ctx)
	assert.Equal(t, health.Unknown, status(t, r, "payments"))
}
