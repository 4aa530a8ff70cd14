package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// The fixed header values of a call, each one slice shared by every
// request: http.Header.Set would allocate a new one per header per call.
// Nothing writes into a header's values in place (Add and Set replace or
// grow the slice, and a full slice grows into a new array), so sharing is
// safe.
var (
	jsonValue = []string{"application/json"}
	// noValue is how net/http is told to send no User-Agent: its default,
	// "Go-http-client/1.1", names no one (a call's credentials name its
	// caller), and the callee, which never reads it, would parse it on
	// every call.
	noValue = []string{""}
)

// urls parses each path's URL once: a client calls a few paths, each
// thousands of times. The *url.URL is shared by the requests to its path;
// net/http's client side never writes into a request's URL.
type urls struct {
	base string
	mu   sync.RWMutex
	by   map[string]*url.URL
}

func newURLs(base string) *urls { return &urls{base: base, by: map[string]*url.URL{}} }

func (u *urls) of(path string) (*url.URL, error) {
	u.mu.RLock()
	parsed, ok := u.by[path]
	u.mu.RUnlock()
	if ok {
		return parsed, nil
	}
	parsed, err := url.Parse(u.base + path)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.by) < maxURLs { // paths come from contracts, but bound it anyway
		u.by[path] = parsed
	}
	return parsed, nil
}

// maxURLs bounds the parsed URLs a client keeps.
const maxURLs = 1024

// newRequest is http.NewRequestWithContext for r, with the URL parsed once
// per path, and the headers every call carries set (its credentials,
// request id and trace context are the caller's to add).
func (c *Client) newRequest(ctx context.Context, r *request) (*http.Request, error) {
	u, err := c.urls.of(r.path)
	if err != nil {
		return nil, err
	}
	req := (&http.Request{
		Method: r.method, URL: u, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 8),
	}).WithContext(ctx)
	if r.body != nil {
		req.Body, req.ContentLength, req.GetBody = newBody(r.body), int64(len(r.body)), r.replay
		req.Header["Content-Type"] = jsonValue
	}
	req.Header["Accept"] = jsonValue
	req.Header["User-Agent"] = noValue
	if dl, ok := ctx.Deadline(); ok {
		req.Header[DeadlineHeader] = []string{strconv.FormatInt(max(time.Until(dl).Milliseconds(), 1), 10)}
	}
	return req, nil
}

// newBody is a reader of a request's encoded body. net/http sends the
// header and a body it knows is in memory (a *bytes.Reader in a NopCloser)
// in one write; any other reader gets a write of its own.
func newBody(raw []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(raw)) }
