package contract

import (
	"sort"
	"sync/atomic"
	"time"
)

// DurationBuckets are the upper bounds, in seconds, of the duration
// histogram of calls over HTTP: from a loopback call (under a
// millisecond) to the deadline cap.
var DurationBuckets = [...]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// latency is the duration histogram of one edge's HTTP calls, kept in
// atomics like the edge's counters, so a call adds to it without a lock or
// a label lookup and a collector reads it at scrape time. Its sum is the
// edge's sample's (every HTTP call is timed there too). In-process edges
// have none: they are counted, not timed (see Done).
type latency struct {
	counts [len(DurationBuckets) + 1]atomic.Uint64 // per bucket, the last one +Inf; not cumulative
}

func (l *latency) observe(d time.Duration) {
	l.counts[sort.SearchFloat64s(DurationBuckets[:], d.Seconds())].Add(1)
}

// Latency is an edge's duration histogram at one moment.
type Latency struct {
	Count      uint64  `json:"count"`
	SumSeconds float64 `json:"sum_seconds"`
	// Buckets holds, for each of DurationBuckets, the calls that took at
	// most that long (cumulative, as Prometheus counts them).
	Buckets []uint64 `json:"buckets"`
}

// snapshot is the histogram whose calls took nanos in total.
func (l *latency) snapshot(nanos uint64) *Latency {
	out := &Latency{Buckets: make([]uint64, len(DurationBuckets)), SumSeconds: time.Duration(nanos).Seconds()}
	for i := range l.counts {
		out.Count += l.counts[i].Load()
		if i < len(DurationBuckets) {
			out.Buckets[i] = out.Count
		}
	}
	return out
}
