package shutdown_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/shutdown"
)

// Stop lets the step in flight finish with its context intact, and starts
// no other.
func TestStopLetsTheStepInFlightFinish(t *testing.T) {
	var l shutdown.Loop
	var steps, finished atomic.Int32
	inStep, release := make(chan struct{}), make(chan struct{})
	l.Start(time.Millisecond, func(ctx context.Context) bool {
		if steps.Add(1) == 1 {
			close(inStep)
			<-release
			if ctx.Err() == nil {
				finished.Add(1)
			}
		}
		return true // more work: without Stop it would go on at once
	})
	<-inStep
	stopped := make(chan bool)
	go func() { stopped <- l.Stop(context.Background()) }()
	require.Eventually(t, func() bool {
		select {
		case <-l.Halting():
			return true
		default:
			return false
		}
	}, 5*time.Second, time.Millisecond)
	close(release)
	assert.False(t, <-stopped, "the step was not cut")
	assert.Equal(t, int32(1), finished.Load(), "the step finished with its context alive")
	assert.Equal(t, int32(1), steps.Load(), "no step after Stop")
}

// Past the drain time, the step's context ends and Stop still waits for it.
func TestStopCutsAStepThatOutlastsTheDrain(t *testing.T) {
	var l shutdown.Loop
	inStep := make(chan struct{})
	var sawCancel atomic.Bool
	l.Start(time.Hour, func(ctx context.Context) bool {
		close(inStep)
		<-ctx.Done()
		sawCancel.Store(true)
		return false
	})
	<-inStep
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	assert.True(t, l.Stop(ctx), "the step was cut")
	assert.True(t, sawCancel.Load(), "Stop returned after the step did")
}

// Drain keeps the Reserve for the hooks after the waits, or half of what
// is left when that is less.
func TestDrainKeepsTheReserve(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parent, _ := ctx.Deadline()
	d, cancelD := shutdown.Drain(ctx)
	defer cancelD()
	got, ok := d.Deadline()
	require.True(t, ok)
	assert.WithinDuration(t, parent.Add(-shutdown.Reserve), got, 50*time.Millisecond)

	short, cancelS := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelS()
	parent, _ = short.Deadline()
	d, cancelD = shutdown.Drain(short)
	defer cancelD()
	got, _ = d.Deadline()
	assert.WithinDuration(t, parent.Add(-time.Second), got, 50*time.Millisecond)
}
