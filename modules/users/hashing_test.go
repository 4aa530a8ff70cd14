package users_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/modulestest"
	"mitosis/platform/auth"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// A burst of registrations, more than there are CPUs to hash their
// passwords, with a deadline shorter than one hash: those that found no
// free hashing slot in time get 503 unavailable with Retry-After, none a
// 500, and the process still answers afterwards.
func TestPasswordHashingUnderABurst(t *testing.T) {
	const cost = 10
	p := modulestest.Start(t, map[string]string{"SERVICES": "users,payments", "PASSWORD_HASH_COST": strconv.Itoa(cost)})
	// A slot once taken stays taken for longer than the others may wait.
	passwords, err := auth.NewPasswords(cost)
	require.NoError(t, err)
	started := time.Now()
	_, err = passwords.Hash(t.Context(), "long enough password")
	require.NoError(t, err)
	deadline := max(time.Since(started)/2, 20*time.Millisecond)
	slots := runtime.GOMAXPROCS(0)
	burst := 3*slots + 2
	statuses := make([]int, burst)
	bodies := make([]problem.Details, burst)
	retryAfter := make([]string, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			raw, err := json.Marshal(map[string]string{"email": fmt.Sprintf("burst%d@example.com", i), "name": "B", "password": "long enough password"})
			require.NoError(t, err)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL+"/api/v1/users", bytes.NewReader(raw))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(transport.DeadlineHeader, strconv.FormatInt(deadline.Milliseconds(), 10))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			statuses[i], retryAfter[i] = resp.StatusCode, resp.Header.Get("Retry-After")
			_ = json.NewDecoder(resp.Body).Decode(&bodies[i])
		})
	}
	wg.Wait()
	// On a loaded machine a request holding a slot may also outlive its
	// deadline (504): turned away either way, never hashed to a 500.
	busy, unavailable := 0, 0
	for i, status := range statuses {
		require.NotEqual(t, http.StatusInternalServerError, status)
		switch status {
		case http.StatusServiceUnavailable:
			busy++
			unavailable++
			assert.Equal(t, problem.ErrUnavailable.Code, bodies[i].Code)
			assert.Equal(t, "1", retryAfter[i])
		case http.StatusGatewayTimeout:
			busy++
		}
	}
	assert.GreaterOrEqual(t, busy, burst-slots, "statuses %v: all but the %d that got a slot were turned away", statuses, slots)
	assert.Positive(t, unavailable, "statuses %v: none found every slot taken", statuses)

	resp, err := http.Get(p.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
