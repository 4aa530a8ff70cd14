package transport

import (
	"net"
	"net/http"
	"time"

	"mitosis/platform/config"
	"mitosis/platform/problem"
)

// Credentials sets the headers that authenticate a call to the module
// callee.
type Credentials interface {
	Apply(h http.Header, callee string) error
}

// Factory builds clients that share one connection pool and credentials.
type Factory struct {
	http    *http.Client
	timeout time.Duration
	creds   Credentials
}

// NewFactory returns a factory with keep-alive pooling sized for
// module-to-module traffic.
func NewFactory(cfg config.Config, creds Credentials) *Factory {
	tr := &http.Transport{
		Proxy:                 nil, // module calls never go through an outbound proxy
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // the per-call deadline governs
		ForceAttemptHTTP2:     false,
	}
	return &Factory{http: &http.Client{Transport: tr}, timeout: cfg.Calls.Timeout, creds: creds}
}

// New returns a client for the module callee at base that decodes its
// errors.
func (f *Factory) New(callee, base string, known ...*problem.Error) *Client {
	c := NewClient(base, f.http, f.timeout, known...)
	c.creds, c.callee = f.creds, callee
	return c
}
