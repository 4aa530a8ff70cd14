package advise

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

// The admin route GET /admin/v1/advise is `app advise` for the console:
// the report for the system this process sees (itself and its
// ADMIN_PEERS), from their records and a hop this process measures by
// probing itself. It stays cheap: the probe is short (at most a second per
// size, paused as ProbePause says) and its figures are kept for hopTTL,
// and one report is worked out at a time.

// Bounds of the route's work.
const (
	serveProbeCalls = 100
	hopTTL          = 5 * time.Minute
	readTimeout     = 5 * time.Second
)

// SystemReport is the route's answer: the report, and the processes that
// did not answer (their records are left out).
type SystemReport struct {
	Report
	Unreachable []string `json:"unreachable"`
	// Note says why there is nothing to weigh yet.
	Note string `json:"note,omitempty"`
}

// Service serves the route.
type Service struct {
	self   func() string // this process's admin URL, known once it listens
	peers  []string
	prober *Prober
	client Admin

	mu   sync.Mutex // one report at a time
	hops *cachedHops
}

// NewService advises on this process (its admin listener at self()) and
// peers, probing with prober.
func NewService(self func() string, peers []string, prober *Prober) *Service {
	return &Service{self: self, peers: peers, prober: prober,
		client: Admin{HTTP: &http.Client{Timeout: readTimeout, Transport: &http.Transport{Proxy: nil}}}}
}

// Advise reads every process, merges their records and weighs the
// candidates (with separate, the cheapest placement separating them).
func (s *Service) Advise(ctx context.Context, separate []string) (SystemReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bases := []string{s.self()}
	for _, p := range s.peers {
		if p = strings.TrimRight(p, "/"); p != bases[0] {
			bases = append(bases, p)
		}
	}
	procs, unreachable, _ := s.client.ReadAll(ctx, bases) // those that do not answer are named, their records left out
	out := SystemReport{Unreachable: append([]string{}, unreachable...)}
	for _, p := range procs {
		out.Processes = append(out.Processes, p.Admin)
	}
	sys := Merge(procs)
	if len(sys.Routes) == 0 {
		out.Note = NoRecords
		out.Candidates = []Prediction{}
		return out, nil
	}
	if s.hops == nil || time.Since(s.hops.at) > hopTTL {
		s.hops = &cachedHops{prober: s.prober, at: time.Now(), pause: ProbePause(sys)}
	}
	r, err := Advise(ctx, sys, s.hops, separate)
	if err != nil {
		return SystemReport{}, err
	}
	r.Processes = out.Processes
	out.Report = r
	return out, nil
}

// Serve is the route; ?separate=a,b names modules that must run apart.
func (s *Service) Serve(c echo.Context) error {
	var separate []string
	if v := c.QueryParam("separate"); v != "" {
		separate = strings.Split(v, ",")
		if len(separate) < 2 {
			return problem.Invalid("separate", "needs at least two modules, comma-separated")
		}
	}
	r, err := s.Advise(c.Request().Context(), separate)
	if err != nil {
		var bad *SeparateError
		if errors.As(err, &bad) {
			return problem.Invalid("separate", bad.Reason)
		}
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// cachedHops probes this process itself, once per size while it lasts.
type cachedHops struct {
	prober *Prober
	at     time.Time
	pause  time.Duration
	sized  sizedHops
}

func (c *cachedHops) Hop(ctx context.Context, size EdgeSize) (Hop, error) {
	return c.sized.hop(ctx, size, func(ctx context.Context, reqBytes, respBytes int) (Hop, error) {
		res, err := c.prober.Probe(ctx, ProbeRequest{Calls: serveProbeCalls, RequestBytes: reqBytes, ResponseBytes: respBytes,
			PauseMicros: int(c.pause / time.Microsecond)})
		if err != nil {
			return Hop{}, err
		}
		return newHop(reqBytes, respBytes, res.Seconds, res.CPUSecondsPerCall), nil
	})
}

func (c *cachedHops) Source() string {
	return fmt.Sprintf("measured at %s: %d round trips per size, %s apart, from this process to itself through the transport on loopback",
		c.at.UTC().Format(time.RFC3339), serveProbeCalls, c.pause)
}
