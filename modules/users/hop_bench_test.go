package users_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"mitosis/modules/modulestest"
	"mitosis/modules/users"
	"mitosis/platform/problem"
)

// BenchmarkHopReference is the hop reference bench/run.sh divides
// BenchmarkGet's dispatch/http by: the same request and the same answer
// over bare net/http and encoding/json on loopback, with nothing of ours
// in between (no echo, middleware, service-token check, retries, breaker
// or edge counting). The request is POST /internal/users/get with
// {"id":"not-a-uuid"} and the headers our transport sends; the answer is
// users' 404 problem+json. Both are recorded from one real call through
// our HTTP client to a real users server, so the reference cannot drift
// from what the transport sends; the benchmark then checks that its own
// answer is the recorded one, byte for byte.
//
// Like dispatch/http it runs client and server in this process, encodes
// the request and decodes the answer on every call, and reports p50 and
// p99 beside ns/op and allocs/op (client and server together).
func BenchmarkHopReference(b *testing.B) {
	call := recordGet(b)

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in users.GetRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.URL.Path != call.path {
			http.Error(w, "not the recorded request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", call.contentType)
		w.WriteHeader(call.status)
		_ = json.NewEncoder(w).Encode(call.answer)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	target := "http://" + ln.Addr().String() + call.path
	client := &http.Client{}

	ctx := context.Background()
	get := func() (problem.Details, []byte, error) {
		body, err := json.Marshal(users.GetRequest{ID: call.id})
		if err != nil {
			return problem.Details{}, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return problem.Details{}, nil, err
		}
		for k, v := range call.header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return problem.Details{}, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return problem.Details{}, nil, err
		}
		if resp.StatusCode != call.status {
			return problem.Details{}, raw, fmt.Errorf("status %d, want %d", resp.StatusCode, call.status)
		}
		var d problem.Details
		err = json.Unmarshal(raw, &d)
		return d, raw, err
	}
	d, raw, err := get()
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(raw, call.raw) || d.Code != users.ErrNotFound.Code {
		b.Fatalf("the reference answers %q, users answered %q", raw, call.raw)
	}

	timed(b, func() error {
		d, _, err := get()
		if err == nil && d.Code != users.ErrNotFound.Code {
			err = errors.New("want " + users.ErrNotFound.Code)
		}
		return err
	})
}

// recordedCall is one call of users.Service.Get as our transport made it.
type recordedCall struct {
	id, path    string
	header      http.Header // what the transport set (not what net/http adds itself)
	status      int
	contentType string
	raw         []byte // the answer's body
	answer      problem.Details
}

// recordGet starts users, calls Get with a malformed id through our HTTP
// client via a recording proxy, and returns the request and the answer.
func recordGet(b *testing.B) recordedCall {
	b.Helper()
	p := modulestest.Start(b, map[string]string{"SERVICES": "users,payments"})
	upstream, err := url.Parse(p.URL)
	if err != nil {
		b.Fatal(err)
	}
	call := recordedCall{id: "not-a-uuid"}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.ModifyResponse = func(resp *http.Response) error {
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		call.status, call.contentType, call.raw = resp.StatusCode, resp.Header.Get("Content-Type"), raw
		return nil
	}
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call.path = r.URL.Path
		call.header = r.Header.Clone()
		for _, k := range []string{"Content-Length", "User-Agent", "Accept-Encoding"} {
			call.header.Del(k)
		}
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(recorder.Close)

	var remote users.Service
	modulestest.Clients(b, map[string]string{"users": recorder.URL}, &remote)
	if _, err := remote.Get(context.Background(), users.GetRequest{ID: call.id}); !errors.Is(err, users.ErrNotFound) {
		b.Fatalf("want users.ErrNotFound through the recorder, got %v", err)
	}
	if call.raw == nil || call.path == "" {
		b.Fatal("the call was not recorded")
	}
	if err := json.Unmarshal(call.raw, &call.answer); err != nil {
		b.Fatalf("users answered %q: %v", call.raw, err)
	}
	return call
}
