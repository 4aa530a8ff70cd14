package httpserver

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// seriesKey names one series of the request histogram: method, route
// template, status class and module, in the histogram's label order.
type seriesKey struct{ method, route, class, module string }

// seriesCache keeps the histogram's observer of each series once it has
// been looked up: the HistogramVec would hash the four label values and
// compare them on every request. Its keys are bounded as the labels are
// (standard methods, route templates, six classes, the modules).
type seriesCache struct {
	mu sync.RWMutex
	by map[seriesKey]prometheus.Observer
}

func (sc *seriesCache) of(vec *prometheus.HistogramVec, k seriesKey) prometheus.Observer {
	sc.mu.RLock()
	o, ok := sc.by[k]
	sc.mu.RUnlock()
	if ok {
		return o
	}
	o = vec.WithLabelValues(k.method, k.route, k.class, k.module)
	sc.mu.Lock()
	if sc.by == nil {
		sc.by = map[seriesKey]prometheus.Observer{}
	}
	sc.by[k] = o
	sc.mu.Unlock()
	return o
}
