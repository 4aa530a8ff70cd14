package process

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"mitosis/platform/advise"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/httpserver"
	"mitosis/platform/logging"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// mountPlatform puts in front of every route of a process's server what
// the platform does for each request beyond httpserver.NewRouter (the
// internal-route guard, the advisor's records) and serves the hop probe's
// echo route. The probe's peer has the same, so that a probed hop pays
// what a split's call pays on the callee's side.
func mountPlatform(r *httpserver.Router, services *auth.ServiceAuth, edges *contract.Registry) error {
	advise.MountProbe(r.Echo)
	return r.Use(services.GuardInternal, edges.Record)
}

// Peer serves the hop probe's echo route for `app advise` (see
// advise.Probed.Target), in the advisor's process: probed from a running
// process, a round trip crosses from one process to another as a split's
// call does, and finds the other end idle. Its server is a process's
// server without modules, built as a process builds its own, from cfg
// (run the advisor with the deployment's configuration): the span per
// request (TRACING, sampled as the caller decided; spans are kept in
// memory, never exported), the access log line in LOG_FORMAT written to a
// file (the null device: a pipe with a reader made no difference we could
// measure), the metrics, the shared middleware, the internal-route guard
// and the records. One difference is left: the guard lets every caller
// through, as the peer does not hold the deployment's service secret; a
// process checks a token's signature once and then finds it in its cache
// (a map lookup).
type Peer struct {
	srv *httpserver.Server
	log *os.File
}

// StartPeer serves the echo route on a free loopback port.
func StartPeer(cfg config.Config) (*Peer, error) {
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("probe peer's log: %w", err)
	}
	log := logging.New(cfg, out)
	tc := cfg.Tracing
	if tc.Exporter != config.TracingOff {
		tc.Exporter = config.TracingMemory
	}
	tracing, err := telemetry.New(telemetry.Settings{Tracing: tc, Env: cfg.Env})
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	o, err := httpserver.NewObserver(log, prometheus.NewRegistry(), topology.Placement{})
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	r := httpserver.NewRouter(cfg, log, o.Middleware)
	if err := mountPlatform(r, auth.NewNoServiceAuth(""), contract.NewRegistry(contract.Traced(tracing), contract.RecordEvery(cfg.Record.Every))); err != nil {
		return nil, errors.Join(err, out.Close())
	}
	srv, err := httpserver.Start(httpserver.Traced(r, tracing, topology.Placement{}), "127.0.0.1:0", cfg.HTTP, log)
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	return &Peer{srv: srv, log: out}, nil
}

// URL is the peer's base URL.
func (p *Peer) URL() string { return "http://" + p.srv.Addr() }

// Stop ends the peer's server.
func (p *Peer) Stop(ctx context.Context) error { return errors.Join(p.srv.Stop(ctx), p.log.Close()) }
