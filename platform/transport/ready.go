package transport

import (
	"context"
	"net/http"
)

// ReadyPath is the readiness route of every process.
const ReadyPath = "/health/ready"

// Ready asks the remote module's readiness once: nil when it answers 2xx.
// Like Ping it goes around the retries, the cap and the breaker: the
// health monitor's probes neither wait behind calls nor trip the breaker
// that calls rely on.
func (c *Client) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.attempt(ctx, &request{method: http.MethodGet, path: ReadyPath})
}
