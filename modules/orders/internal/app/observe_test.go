package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/app"
	"mitosis/platform/config"
	"mitosis/platform/logging"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the log lines with message msg.
func (l *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

// A saga's retries are logged with the order, the step and the cause, once
// per interval however many retries; a compensation is logged each time
// with its reason; the counters and the unfinished sagas follow.
func TestTheSagaReportsRetriesCompensationsAndOutcomes(t *testing.T) {
	e := newEnv(t, sagaConfig())
	logs := &logBuffer{}
	log := logging.New(config.Config{Log: config.Log{Format: config.LogJSON, Level: "info"}}, logs)
	reg := prometheus.NewRegistry()
	m, err := app.NewMetrics(reg, e.store)
	require.NoError(t, err)
	svc := app.New(e.store, &e.customers, e.wallet, e.stock, e.cfg, app.Telemetry{Log: log, Metrics: m})

	rich, poor := e.customer(t, 5000), e.customer(t, 100)
	e.wallet.down.Store(true)
	pending := e.place(t, svc, rich)
	require.Equal(t, orders.StatusPending, pending.Status)
	w := app.NewWorker(svc, quiet())
	require.Eventually(t, func() bool {
		_, err := w.RunOnce(e.ctx)
		require.NoError(t, err)
		return testutil.ToFloat64(m.Retries(orders.StepCharge)) >= 3
	}, 5*time.Second, 20*time.Millisecond)
	retries := logs.lines(t, "saga step will be retried")
	require.Len(t, retries, 1, "one line per interval")
	assert.Equal(t, pending.ID, retries[0]["order_id"])
	assert.Equal(t, orders.StepCharge, retries[0]["step"])
	assert.Contains(t, retries[0]["cause"], "unavailable")
	assert.Equal(t, 1.0, gauge(t, reg, "mitosis_orders_sagas", orders.StepCharge))

	e.wallet.down.Store(false)
	assert.Equal(t, orders.StatusConfirmed, e.settled(t, w, pending).Status)
	refused := e.place(t, svc, poor)
	require.Equal(t, orders.StatusCancelled, refused.Status)

	comp := logs.lines(t, "saga compensates")
	require.Len(t, comp, 1)
	assert.Equal(t, refused.ID, comp[0]["order_id"])
	assert.Equal(t, orders.StepCharge, comp[0]["step"])
	assert.Equal(t, orders.ReasonInsufficientFunds, comp[0]["reason"])
	done := logs.lines(t, "saga compensation done")
	require.Len(t, done, 2)
	assert.Equal(t, orders.StepVoidCharge, done[0]["step"])
	assert.Equal(t, orders.StepReleaseStock, done[1]["step"])
	assert.Equal(t, "stock given back", done[1]["result"])

	assert.Equal(t, 1.0, testutil.ToFloat64(m.Compensations(orders.StepVoidCharge)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Compensations(orders.StepReleaseStock)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Settled(orders.StatusConfirmed, "none")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.Settled(orders.StatusCancelled, orders.ReasonInsufficientFunds)))
	assert.Equal(t, 0.0, gauge(t, reg, "mitosis_orders_sagas", orders.StepCharge), "settled sagas are not counted")
}

func gauge(t *testing.T, reg *prometheus.Registry, name, step string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			if mt.GetLabel()[0].GetValue() == step {
				return mt.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{step=%q}", name, step)
	return 0
}
