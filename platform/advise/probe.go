package advise

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/platform/contract"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// The hop probe measures what one contract call over HTTP costs on this
// deployment: the process calls itself, through its own transport client
// (credentials, retries, breaker, codec) and its own server (every
// middleware, the internal-route guard), on loopback, with a request and
// an answer of the sizes the advisor asks for. It is the same path a call
// takes once its callee runs in another process, minus the distance
// between hosts, which loopback does not have.

// probeModule names the probe's callee in its route, credentials and
// breaker.
const probeModule = "_probe"

// echoPath is the route the probe calls.
const echoPath = contract.ProbePrefix + "echo"

// MaxProbeCalls and MaxProbeBytes bound one probe, so the admin route
// cannot be made to load the process for long.
const (
	MaxProbeCalls = 5000
	MaxProbeBytes = 512 << 10
	// MaxProbePauseMicros is 100ms.
	MaxProbePauseMicros = 100_000
)

// ProbeRequest asks for Calls round trips carrying RequestBytes and
// answering ResponseBytes (of JSON, near enough).
type ProbeRequest struct {
	Calls         int `json:"calls"`
	RequestBytes  int `json:"request_bytes"`
	ResponseBytes int `json:"response_bytes"`
	// PauseMicros is the time between two round trips. A call in real
	// traffic finds both ends as idle as the traffic leaves them, not warm
	// from the call before: measured here, a round trip took 0.27 ms back
	// to back, 0.65 ms 2 ms apart and 0.9–1 ms 10, 20 or 50 ms apart (the
	// threads of both ends asleep, the caches cold), so the advisor pauses
	// as long as the recorded traffic does between calls (see ProbePause).
	PauseMicros int `json:"pause_micros"`
	// Target is the base URL of another process serving the echo route
	// on loopback (the advisor's: process.Peer); empty, the process calls
	// itself.
	Target string `json:"target,omitempty"`
}

// ProbeResult is what the round trips took.
type ProbeResult struct {
	ProbeRequest
	// Seconds holds each round trip's duration, sorted.
	Seconds []float64 `json:"seconds"`
	// CPUSecondsPerCall is the process's CPU time per round trip, the
	// client's side and, with no Target, the server's (both are this
	// process): its CPU while the round trips ran, less what it used at
	// the same pace just before, doing none (its own background work, a
	// share that grows with the pause).
	CPUSecondsPerCall float64 `json:"cpu_seconds_per_call"`
}

type echoRequest struct {
	Pad   string `json:"pad"`
	Reply int    `json:"reply"`
}

type echoResponse struct {
	Pad string `json:"pad"`
}

// MountProbe serves the probe's echo route on the process's server.
func MountProbe(e *echo.Echo) {
	e.POST(echoPath, transport.Handle(func(_ context.Context, in echoRequest) (echoResponse, error) {
		return echoResponse{Pad: strings.Repeat("x", min(max(in.Reply, 0), MaxProbeBytes))}, nil
	}))
}

// Prober runs probes against the process's own server.
type Prober struct {
	factory *transport.Factory
	addr    func() string // the server's address, known once it listens
	caller  string

	mu      sync.Mutex
	clients map[string]*transport.Client // by target, "" for itself
}

// NewProber calls the server listening on addr() as caller.
func NewProber(f *transport.Factory, addr func() string, caller string) *Prober {
	return &Prober{factory: f, addr: addr, caller: caller}
}

func (p *Prober) clientFor(target string) (*transport.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[target]; ok {
		return c, nil
	}
	if p.clients == nil {
		p.clients = map[string]*transport.Client{}
	}
	if target != "" {
		if err := loopbackTarget(target); err != nil {
			return nil, problem.Invalid("target", err.Error())
		}
		p.clients[target] = p.factory.New(probeModule, target).As(p.caller)
		return p.clients[target], nil
	}
	host, port, err := net.SplitHostPort(p.addr())
	if err != nil {
		return nil, fmt.Errorf("%w: the server does not listen yet", problem.ErrUnavailable)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	p.clients[target] = p.factory.New(probeModule, "http://"+net.JoinHostPort(host, port)).As(p.caller)
	return p.clients[target], nil
}

// Probe makes the round trips, after a few to warm the connection up.
func (p *Prober) Probe(ctx context.Context, in ProbeRequest) (ProbeResult, error) {
	if in.Calls < 1 || in.Calls > MaxProbeCalls || in.RequestBytes < 0 || in.RequestBytes > MaxProbeBytes ||
		in.ResponseBytes < 0 || in.ResponseBytes > MaxProbeBytes || in.PauseMicros < 0 || in.PauseMicros > MaxProbePauseMicros {
		return ProbeResult{}, problem.Invalid("calls", fmt.Sprintf("calls must be 1 to %d, bytes 0 to %d", MaxProbeCalls, MaxProbeBytes))
	}
	// The envelope {"pad":"…","reply":N} is about 20 bytes of the request.
	client, err := p.clientFor(in.Target)
	if err != nil {
		return ProbeResult{}, err
	}
	req := echoRequest{Pad: strings.Repeat("x", max(in.RequestBytes-20, 0)), Reply: max(in.ResponseBytes-10, 0)}
	call := func() error {
		var out echoResponse
		return client.Call(ctx, transport.Read, http.MethodPost, echoPath, req, &out)
	}
	for range min(in.Calls, 20) {
		if err := call(); err != nil {
			return ProbeResult{}, fmt.Errorf("probe warm-up: %w", err)
		}
	}
	out := ProbeResult{ProbeRequest: in, Seconds: make([]float64, 0, in.Calls)}
	pause := time.Duration(in.PauseMicros) * time.Microsecond
	background, err := backgroundCPU(ctx, pause)
	if err != nil {
		return ProbeResult{}, err
	}
	cpu, began := processCPU(), time.Now()
	for range in.Calls {
		if pause > 0 {
			time.Sleep(pause)
		}
		start := time.Now()
		if err := call(); err != nil {
			return ProbeResult{}, fmt.Errorf("probe: %w", err)
		}
		out.Seconds = append(out.Seconds, time.Since(start).Seconds())
	}
	used := (processCPU() - cpu).Seconds() - background*time.Since(began).Seconds()
	out.CPUSecondsPerCall = max(used, 0) / float64(in.Calls)
	sort.Float64s(out.Seconds)
	return out, nil
}

// backgroundCPU is the share of a CPU this process uses doing no round
// trip, measured over a quiet window of 25 pauses (50 ms to 250 ms).
func backgroundCPU(ctx context.Context, pause time.Duration) (float64, error) {
	window := min(max(25*pause, 50*time.Millisecond), 250*time.Millisecond)
	cpu, began := processCPU(), time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	return (processCPU() - cpu).Seconds() / time.Since(began).Seconds(), nil
}

// Serve is the admin route POST /admin/v1/advise/probe.
func (p *Prober) Serve(c echo.Context) error {
	var in ProbeRequest
	if err := transport.Bind(c, &in); err != nil {
		return err
	}
	out, err := p.Probe(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
