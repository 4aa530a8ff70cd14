package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
	"mitosis/platform/problem"
)

// jwksServer serves a key set that the test can change, counting fetches.
type jwksServer struct {
	mu      sync.Mutex
	set     auth.JWKS
	fail    bool
	fetches atomic.Int64
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_ = json.NewEncoder(w).Encode(s.set)
}

func (s *jwksServer) publish(keys ...auth.SigningKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = auth.JWKS{Keys: []auth.JWK{}}
	for _, k := range keys {
		s.set.Keys = append(s.set.Keys, auth.PublicJWK(k.ID, public(k)))
	}
}

// TestRemoteKeysCacheAndRefreshOnUnknownKid verifies against a JWKS served
// over real HTTP: fetched once and cached, refetched when a rotation brings
// an unknown kid, and not refetched for a flood of made-up kids.
func TestRemoteKeysCacheAndRefreshOnUnknownKid(t *testing.T) {
	oldKey, newKey2, bogus := newKey(t), newKey(t), newKey(t)
	srv := &jwksServer{}
	srv.publish(oldKey)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	const minRefresh = 300 * time.Millisecond
	remote := auth.NewRemoteKeys(hs.URL+auth.JWKSPath, hs.Client(), time.Hour, minRefresh)
	verifier := auth.NewVerifier(remote, "mitosis", "mitosis-api", time.Now)
	issuer := auth.NewIssuer("mitosis", "mitosis-api", time.Minute, time.Now)
	ctx := context.Background()
	token := func(k auth.SigningKey) string {
		issued, err := issuer.Issue(k, "user-1", auth.RoleCustomer)
		require.NoError(t, err)
		return issued.Token
	}

	for range 5 {
		_, err := verifier.Verify(ctx, token(oldKey))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), srv.fetches.Load(), "cached after the first fetch")

	// Rotation: users publishes both keys and signs with the new one.
	srv.publish(newKey2, oldKey)
	require.Eventually(t, func() bool {
		_, err := verifier.Verify(ctx, token(newKey2))
		return err == nil
	}, 5*time.Second, 50*time.Millisecond, "an unknown kid triggers a refetch")
	_, err := verifier.Verify(ctx, token(oldKey))
	require.NoError(t, err, "the old key still verifies")

	// A flood of tokens with a kid nobody published costs at most one fetch
	// per minRefresh, not one per token.
	before := srv.fetches.Load()
	start := time.Now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := verifier.Verify(ctx, token(bogus))
			assert.ErrorIs(t, err, problem.ErrUnauthorized)
		})
	}
	wg.Wait()
	windows := int64(time.Since(start)/minRefresh) + 1
	assert.LessOrEqual(t, srv.fetches.Load()-before, windows)

	// users briefly away: cached keys keep verifying; unknown ones cannot
	// be told from a rotation, so they are unavailable, not unauthorized.
	srv.mu.Lock()
	srv.fail = true
	srv.mu.Unlock()
	time.Sleep(minRefresh) // let the refresh window open, so a fetch is attempted
	_, err = verifier.Verify(ctx, token(bogus))
	require.ErrorIs(t, err, problem.ErrUnavailable)
	_, err = verifier.Verify(ctx, token(newKey2))
	require.NoError(t, err)
}

// TestRemoteKeysFetchOutlivesTheRequestThatStartedIt: a caller that gives up
// (a client hanging up on a token with a made-up kid) must not fail the
// shared fetch, which would throttle the next one and refuse a good token
// of a just-rotated key.
func TestRemoteKeysFetchOutlivesTheRequestThatStartedIt(t *testing.T) {
	rotated := newKey(t)
	srv := &jwksServer{}
	srv.publish(rotated)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	remote := auth.NewRemoteKeys(hs.URL+auth.JWKSPath, hs.Client(), time.Hour, time.Hour)

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := remote.PublicKey(gone, "made-up")
	require.ErrorIs(t, err, auth.ErrUnknownKey)

	key, err := remote.PublicKey(context.Background(), rotated.ID)
	require.NoError(t, err, "the fetch started by the cancelled request has the rotated key")
	assert.Equal(t, public(rotated), key)
}
