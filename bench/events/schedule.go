package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// pace calls send total times at rate a second, each call at its slot
// whether or not the earlier ones have returned (an open loop: a slow bus
// does not slow the arrivals), with at most workers calls in flight, and
// starts none after within has passed (the publishers fell behind: the
// slots left are dropped, and counted). It returns how many calls started
// more than 5 ms after their slot (every worker busy, or the machine):
// many, and the publishers, not the schedule, set the pace. Latencies are
// measured from each commit, so a late call shifts its arrival, not its
// latency.
func pace(ctx context.Context, rate float64, total, workers int, within time.Duration, send func(context.Context) error) (late, dropped int, err error) {
	interval := time.Duration(float64(time.Second) / rate)
	slots := make(chan time.Time, total)
	type count struct{ late, dropped int }
	counts := make(chan count, workers)
	start := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			var n count
			defer func() { counts <- n }()
			for slot := range slots {
				if time.Since(start) > within {
					n.dropped++
					continue
				}
				if time.Since(slot) > 5*time.Millisecond {
					n.late++
				}
				if err := send(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := range total {
		slot := start.Add(time.Duration(i) * interval)
		if d := time.Until(slot); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		slots <- slot
	}
	close(slots)
	err = g.Wait()
	for range workers {
		n := <-counts
		late, dropped = late+n.late, dropped+n.dropped
	}
	return late, dropped, err
}

// waitFor polls count every 100 ms until it reaches want, and fails when
// it has not moved for stall. The times measured come from commit
// timestamps, not from these polls, which only have to be light.
func waitFor(ctx context.Context, want int, stall time.Duration, count func(context.Context) (int, error)) error {
	last, moved := -1, time.Now()
	for {
		n, err := count(ctx)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if n != last {
			last, moved = n, time.Now()
		} else if time.Since(moved) > stall {
			return fmt.Errorf("%d of %d events arrived, then none for %s", n, want, stall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
