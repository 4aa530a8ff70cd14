package transport

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

	"mitosis/platform/problem"
)

// Loopback carries the calls between the modules of one process through
// that process's own HTTP handler, without a socket (LOCAL_CALLS=strict):
// the same client code encodes the request, sets the deadline, the service
// credentials and the request id, and decodes the answer or the problem;
// the same server code (middleware, guard, handlers, error handler) serves
// it. What differs from a call over loopback TCP is only the connection.
type Loopback struct {
	factory *Factory
	rt      http.RoundTripper
}

// Loopback returns the loopback of the process whose handler is h (its
// echo server, wrapped as the listener serves it).
func (f *Factory) Loopback(h http.Handler) *Loopback {
	return &Loopback{factory: f, rt: inMemory{h: h}}
}

// Client returns a client of module, served in this process, which decodes
// the module's errors.
//
// It retries as a remote client does (the method's declared safety and the
// answer decide), but has no circuit breaker and no cap on calls in flight:
// those protect a remote process and the network between, and a breaker
// open on a module of this very process would only hide it.
func (l *Loopback) Client(module string, known ...*problem.Error) *Client {
	f := l.factory
	g := &guard{module: module, url: InProcessURL, retries: f.calls.Retries, backoff: f.calls.Backoff}
	return f.client(l.rt, InProcessURL, g, known)
}

// InProcessURL is the base address of a loopback client: never dialled.
const InProcessURL = "http://in-process"

// inMemory serves each request with the handler, in the caller's
// goroutine, and answers with what the handler wrote.
type inMemory struct{ h http.Handler }

func (t inMemory) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	// The server's request shares nothing with the caller's but bytes: no
	// value of the caller's context crosses (the deadline comes from its
	// header, the caller from its credentials), and the caller giving up
	// cancels it, as a closed connection would.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer context.AfterFunc(req.Context(), cancel)()
	in := (&http.Request{
		Method:        req.Method,
		URL:           &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        req.Header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          req.URL.Host,
		RemoteAddr:    "127.0.0.1:0",
		RequestURI:    req.URL.RequestURI(),
	}).WithContext(ctx)
	w := &answer{header: http.Header{}}
	t.h.ServeHTTP(w, in)
	if err := req.Context().Err(); err != nil {
		return nil, err // gone before the answer, as over a socket
	}
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answers 200

	return &http.Response{
		Status: http.StatusText(w.status), StatusCode: w.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: w.sent, Body: io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()), Request: req,
	}, nil
}

// answer is the response writer of an in-memory request.
type answer struct {
	header http.Header
	sent   http.Header // the header as it was when the status was written
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status, a.sent = status, a.header.Clone()
	}
}

func (a *answer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}
