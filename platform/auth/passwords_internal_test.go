package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
)

// More hashes than the cap at once: the cap is never exceeded, and those
// that cannot get a slot within their deadline are told to come back
// (503 unavailable), while those holding one finish.
func TestHashingIsCapped(t *testing.T) {
	const slots = 2
	p, err := newPasswords(4, slots)
	require.NoError(t, err)
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	hash := p.hash
	p.hash = func(password []byte, cost int) ([]byte, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		<-gate
		return hash(password, cost)
	}

	var holders sync.WaitGroup
	for range slots {
		holders.Go(func() {
			_, err := p.Hash(context.Background(), "correct horse")
			assert.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return inFlight.Load() == slots }, 5*time.Second, time.Millisecond)

	var waiters sync.WaitGroup
	errs := make([]error, 3*slots)
	started := time.Now()
	for i := range errs {
		waiters.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if i%2 == 0 {
				_, errs[i] = p.Hash(ctx, "correct horse")
			} else {
				_, errs[i] = p.Matches(ctx, "$2a$04$notahash", "correct horse")
			}
		})
	}
	waiters.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, ErrHashingBusy)
		require.ErrorIs(t, err, problem.ErrUnavailable)
		assert.Equal(t, "Too many passwords are being checked at once; retry shortly.", problem.From(err).Detail)
	}
	assert.Less(t, time.Since(started), time.Second, "they waited within their deadline, not longer")

	// A caller that went away is not told anything.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Hash(gone, "correct horse")
	require.ErrorIs(t, err, context.Canceled)

	close(gate)
	holders.Wait()
	assert.EqualValues(t, slots, peak.Load(), "never more than the cap at once")
	_, err = p.Hash(context.Background(), "correct horse")
	require.NoError(t, err, "slots are given back")
	assert.False(t, errors.Is(err, ErrHashingBusy))
}
