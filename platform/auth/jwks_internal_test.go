package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRemoteKeysDoNotQueueBehindAHangingFetch: once the cache is stale,
// a refetch from a users that hangs must not hold up every verification of
// a known key until it times out; they go on with the cached key.
func TestRemoteKeysDoNotQueueBehindAHangingFetch(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	kid := KeyID(pub)
	var fetches atomic.Int64
	hang := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hang) }) }
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fetches.Add(1) > 1 {
			select { // users hangs: connected, no answer
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		_ = json.NewEncoder(w).Encode(JWKS{Keys: []JWK{PublicJWK(kid, pub)}})
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(release)

	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	remote := NewRemoteKeys(hs.URL, hs.Client(), time.Minute, time.Second)
	remote.now = func() time.Time { return time.Unix(0, clock.Load()) }
	ctx := context.Background()
	_, err = remote.PublicKey(ctx, kid)
	require.NoError(t, err)

	clock.Add(int64(2 * time.Minute)) // the cache is stale
	go func() { _, _ = remote.PublicKey(ctx, kid) }()
	require.Eventually(t, func() bool { return fetches.Load() == 2 }, 5*time.Second, 10*time.Millisecond, "a refetch is under way")

	done := make(chan error, 1)
	go func() {
		key, err := remote.PublicKey(ctx, kid)
		if err == nil && !key.Equal(pub) {
			err = ErrUnknownKey
		}
		done <- err
	}()
	select {
	case err := <-done:
		assert.NoError(t, err, "the cached key verifies")
	case <-time.After(time.Second):
		t.Fatal("a verification waited for the hanging JWKS fetch")
	}
	release()
}
