package contract_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/contract"
)

// series gathers reg and returns each family's metrics by their labels
// ("caller=orders,callee=shop,...").
func series(t *testing.T, reg *prometheus.Registry) map[string]map[string]*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]map[string]*dto.Metric{}
	for _, f := range fams {
		out[f.GetName()] = map[string]*dto.Metric{}
		for _, m := range f.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if key != "" {
					key += ","
				}
				key += l.GetName() + "=" + l.GetValue()
			}
			out[f.GetName()][key] = m
		}
	}
	return out
}

// The collector shows every bound edge's calls and failures; HTTP edges
// also have their duration histogram, in-process ones none.
func TestTheCollectorExposesEveryEdge(t *testing.T) {
	impl := &store{callerOf: auth.Caller}
	url, f := serveShop(t, impl)
	edges := contract.NewRegistry()
	local := contract.ForCaller(shopAPI.Local(impl, edges), "orders")
	remote := contract.ForCaller(shopAPI.Remote(f.New("shop", url, errSoldOut), edges), "gateway")
	ctx := context.Background()
	for _, s := range []shop{local, remote} {
		_, err := s.Buy(ctx, buyRequest{SKU: "tea"})
		require.NoError(t, err)
		_, err = s.Buy(ctx, buyRequest{SKU: "gone"})
		require.ErrorIs(t, err, errSoldOut)
	}

	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(edges.Collector()))
	got := series(t, reg)
	calls := got["mitosis_contract_calls_total"]
	assert.Equal(t, 2.0, calls["callee=shop,caller=orders,method=Buy,transport=local"].GetCounter().GetValue())
	assert.Equal(t, 2.0, calls["callee=shop,caller=gateway,method=Buy,transport=http"].GetCounter().GetValue())
	assert.Equal(t, 0.0, calls["callee=shop,caller=orders,method=GetPrice,transport=local"].GetCounter().GetValue(),
		"a bound edge shows before its first call")
	assert.NotContains(t, calls, "callee=shop,caller=,method=Buy,transport=local", "unbound edges nobody called are left out")

	failures := got["mitosis_contract_call_failures_total"]
	assert.Equal(t, 1.0, failures["callee=shop,caller=orders,code=shop.sold_out,method=Buy,transport=local"].GetCounter().GetValue())
	assert.Equal(t, 1.0, failures["callee=shop,caller=gateway,code=shop.sold_out,method=Buy,transport=http"].GetCounter().GetValue())

	durations := got["mitosis_contract_call_duration_seconds"]
	h := durations["callee=shop,caller=gateway,method=Buy,transport=http"].GetHistogram()
	require.NotNil(t, h)
	assert.Equal(t, uint64(2), h.GetSampleCount())
	assert.Positive(t, h.GetSampleSum())
	assert.Len(t, h.GetBucket(), len(contract.DurationBuckets))
	assert.Equal(t, uint64(2), h.GetBucket()[len(h.GetBucket())-1].GetCumulativeCount(), "both took under 10s")
	for key := range durations {
		assert.Contains(t, key, "transport=http", "in-process calls are not timed")
	}
}
