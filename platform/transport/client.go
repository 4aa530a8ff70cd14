// Package transport carries contract calls between processes: a JSON/HTTP
// client that remote module clients are built on, and the matching server
// helpers. Deadlines, request ids and coded errors cross the wire.
package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
)

// DeadlineHeader carries the caller's remaining time budget in milliseconds.
// A relative budget is immune to clock skew between hosts.
const DeadlineHeader = "X-Deadline-Ms"

// RequestIDHeader correlates one request across processes.
const RequestIDHeader = "X-Request-Id"

// Client calls one remote module. Every call passes, in order, through
// retries (only for calls safe to repeat), a cap on calls in flight, and the
// module's circuit breaker, under one deadline for all its attempts.
type Client struct {
	base string
	urls *urls // base joined with each path, parsed
	// http sends each request as it is: no http.Client above it, whose
	// redirects a module call never follows and whose per-call copy of
	// the headers (for those redirects) cost allocations on every call.
	http    http.RoundTripper
	known   map[string]error
	timeout time.Duration
	creds   Credentials // nil: calls carry no credentials
	caller  string      // the calling module; "" for this process's modules
	callee  string      // the module called, for its credentials
	guard   *guard      // shared by every client of the module
	send    send        // attempt, behind the decorators
}

// send performs a call; the decorators in retry.go, limit.go and
// breaker.go wrap one another around attempt.
type send func(ctx context.Context, r *request) error

// request is one call, kept replayable: the body is encoded once and sent
// again by each attempt.
type request struct {
	method, path string
	body         []byte // nil: no body
	out          any    // nil: ignore the answer
	safety       Safety
}

func (r *request) String() string { return r.method + " " + r.path }

// replay is the request's GetBody: a fresh reader of its body, for the
// transport to send it again on another connection.
func (r *request) replay() (io.ReadCloser, error) { return newBody(r.body), nil }

// BaseURL is where the remote module lives.
func (c *Client) BaseURL() string { return c.base }

// As returns a client of the same module (sharing its pool, breaker and
// cap) whose calls carry credentials made out as coming from caller.
func (c *Client) As(caller string) *Client {
	cp := *c
	cp.caller = caller
	cp.send = c.guard.decorate(cp.attempt)
	return &cp
}

// CircuitState is the state of the module's breaker: closed, open or half-open.
func (c *Client) CircuitState() string { return c.guard.breaker.state() }

// Call sends in as JSON (nil: no body) and decodes a 2xx answer into out
// (nil: ignore). Non-2xx answers come back as the callee's error. safety
// says whether a failed attempt may be repeated. The caller's deadline,
// capped by CALL_TIMEOUT, bounds every attempt and the pauses between them.
func (c *Client) Call(ctx context.Context, safety Safety, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r := &request{method: method, path: path, out: out, safety: safety}
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s: %w", r, err)
		}
		r.body = raw
	}
	return c.send(ctx, r)
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *request) error {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return fmt.Errorf("build %s: %w", r, err)
	}
	if c.creds != nil {
		if err := c.creds.Apply(req.Header, c.caller, c.callee); err != nil {
			return fmt.Errorf("%s: credentials: %w", r, err)
		}
	}
	if id := RequestID(ctx); id != "" {
		req.Header[RequestIDHeader] = []string{id}
	}
	// The caller's span (a contract call's CLIENT span) becomes the
	// callee's parent, with the baggage and the hop depth.
	telemetry.Inject(ctx, req.Header)
	resp, err := c.http.RoundTrip(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", r, ctxErr)
		}
		return problem.WithDetail(fmt.Errorf("%s: %w: %w", r, problem.ErrUnavailable, err), c.guard.module+" is unavailable")
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return c.decodeError(resp)
	}
	if r.out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := buf.readFrom(resp.Body, resp.ContentLength, -1); err != nil {
		return fmt.Errorf("read answer of %s: %w", r, err)
	}
	// Unmarshal, not a Decoder: the answer is in memory already, and a
	// Decoder would copy it into a buffer of its own.
	if err := json.Unmarshal(buf.b, r.out); err != nil {
		return fmt.Errorf("decode %s: %w", r, err)
	}
	return nil
}

// maxProblemBytes bounds the problem body read from an error answer.
const maxProblemBytes = 64 << 10

func (c *Client) decodeError(resp *http.Response) error {
	buf := getBuffer()
	defer putBuffer(buf)
	_ = buf.readFrom(resp.Body, resp.ContentLength, maxProblemBytes)
	raw := buf.b
	re := &problem.RemoteError{} // decoded into: it is the error returned
	if err := json.Unmarshal(raw, &re.Details); err != nil || re.Details.Code == "" {
		// Not one of ours (a proxy, a crash): keep the status meaningful.
		d := problem.Details{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Code: problem.ErrUnavailable.Code}
		if resp.StatusCode < 500 {
			d.Code = problem.ErrBadRequest.Code
		}
		return errors.Join(problem.Decode(d, c.known), fmt.Errorf("remote answered %d: %.200s", resp.StatusCode, raw))
	}
	return problem.DecodeRemote(re, c.known)
}

// Ping asks the remote module's liveness endpoint once, around the retries,
// the cap and the breaker: it reports whether the module answers now, which
// the breaker's state does not say.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.attempt(ctx, &request{method: http.MethodGet, path: "/health/live"})
}
