package advise

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"mitosis/platform/config"
	"mitosis/platform/httpserver"
	"mitosis/platform/topology"
)

// Peer is a process of its own serving the probe's echo route (the
// advisor's): probed from a running process, a round trip crosses from
// one process to another as a split call does, and finds the other end
// idle, which a process probing itself does not. Its server is built as
// every process's is (the shared middleware, the access log, metrics),
// but does not check service credentials: their checking is a few
// microseconds the prediction leaves out.
type Peer struct {
	srv *httpserver.Server
}

// StartPeer serves the echo route on a free loopback port.
func StartPeer(cfg config.Config, log *slog.Logger) (*Peer, error) {
	o, err := httpserver.NewObserver(log, prometheus.NewRegistry(), topology.Placement{})
	if err != nil {
		return nil, err
	}
	r := httpserver.NewRouter(cfg, log, o.Middleware)
	MountProbe(r.Echo)
	srv, err := httpserver.Start(r, "127.0.0.1:0", cfg.HTTP, log)
	if err != nil {
		return nil, err
	}
	return &Peer{srv: srv}, nil
}

// URL is the peer's base URL.
func (p *Peer) URL() string { return "http://" + p.srv.Addr() }

// Stop ends the peer's server.
func (p *Peer) Stop(ctx context.Context) error { return p.srv.Stop(ctx) }

// loopbackTarget checks a probe's target: only a server on this host's
// loopback, so the admin route cannot be made to call anywhere else.
func loopbackTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("target must be http://127.0.0.1:<port>, got %q", target)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("target must be on loopback, got %q", target)
	}
	return nil
}

// OnLoopback reports whether base (an admin URL) is on this host's loopback.
func OnLoopback(base string) bool {
	u, err := url.Parse(base)
	return err == nil && loopbackTarget(u.Scheme+"://"+u.Host) == nil
}
