// Package transport carries contract calls between processes: a JSON/HTTP
// client that remote module clients are built on, and the matching server
// helpers. Deadlines, request ids and coded errors cross the wire.
package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"mitosis/platform/problem"
)

// DeadlineHeader carries the caller's remaining time budget in milliseconds.
// A relative budget is immune to clock skew between hosts.
const DeadlineHeader = "X-Deadline-Ms"

// RequestIDHeader correlates one request across processes.
const RequestIDHeader = "X-Request-Id"

// Client calls one remote module.
type Client struct {
	base    string
	http    *http.Client
	known   map[string]error
	timeout time.Duration
	creds   Credentials // nil: calls carry no credentials
	callee  string      // the module called, for its credentials
}

// NewClient returns a client for the module at base, without credentials
// (Factory.New adds them). known maps the codes of
// the callee's contract errors back to their sentinels; timeout caps every
// call even when the caller has no deadline.
func NewClient(base string, hc *http.Client, timeout time.Duration, known ...*problem.Error) *Client {
	return &Client{base: base, http: hc, known: problem.Registry(known...), timeout: timeout}
}

// BaseURL is where the remote module lives.
func (c *Client) BaseURL() string { return c.base }

// Call sends in as JSON (nil: no body) and decodes a 2xx answer into out
// (nil: ignore). Non-2xx answers come back as the callee's error.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if dl, ok := ctx.Deadline(); ok {
		req.Header.Set(DeadlineHeader, strconv.FormatInt(max(time.Until(dl).Milliseconds(), 1), 10))
	}
	if c.creds != nil {
		if err := c.creds.Apply(req.Header, c.callee); err != nil {
			return fmt.Errorf("%s %s: credentials: %w", method, path, err)
		}
	}
	if id := RequestID(ctx); id != "" {
		req.Header.Set(RequestIDHeader, id)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s %s: %w", method, path, ctxErr)
		}
		return fmt.Errorf("%s %s: %w: %w", method, path, problem.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return c.decodeError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var d problem.Details
	if err := json.Unmarshal(raw, &d); err != nil || d.Code == "" {
		// Not one of ours (a proxy, a crash): keep the status meaningful.
		d = problem.Details{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Code: problem.ErrUnavailable.Code}
		if resp.StatusCode < 500 {
			d.Code = problem.ErrBadRequest.Code
		}
		return errors.Join(problem.Decode(d, c.known), fmt.Errorf("remote answered %d: %.200s", resp.StatusCode, raw))
	}
	return problem.Decode(d, c.known)
}

// Ping asks the remote module's liveness endpoint.
func (c *Client) Ping(ctx context.Context) error {
	return c.Call(ctx, http.MethodGet, "/health/live", nil, nil)
}
