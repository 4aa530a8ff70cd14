// Package console serves the operator console at /console on the admin
// listener, and the one admin route it needs beyond the others:
// /admin/v1/system/:part, which asks this process and every peer of
// ADMIN_PEERS for one part of their admin API and answers with all of them.
// Each process answers for itself only; the console of any one shows the
// whole deployment. The browser talks to this listener only (the page's
// policy allows nothing else); this process asks the peers.
package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mitosis/platform/admin"
	"mitosis/platform/config"
	"mitosis/platform/problem"
	"mitosis/platform/webui"
)

// peerTimeout bounds one peer's answer: a process that is down shows as
// unreachable, and the others still show.
const peerTimeout = 2 * time.Second

// maxAnswer bounds what one peer may send back.
const maxAnswer = 8 << 20

// Answer is one process's answer to one part.
type Answer struct {
	// Admin is the process's admin base URL, as this one reaches it.
	Admin string `json:"admin"`
	// Self marks this process.
	Self bool `json:"self"`
	// Status is the HTTP status of its answer; 0 when it did not answer.
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Console gathers parts from the processes.
type Console struct {
	peers  []string
	bound  *admin.Bound
	parts  *Parts
	client *http.Client
}

// New is the console of a process whose admin listener is bound (once it
// starts) with the peers of cfg; it gathers the parts registered in parts.
func New(cfg config.Config, bound *admin.Bound, parts *Parts) *Console {
	return &Console{peers: cfg.Admin.Peers, bound: bound, parts: parts, client: &http.Client{Timeout: peerTimeout}}
}

// processes are this process's admin URL first, then every peer but it.
func (c *Console) processes() []string {
	self := "http://" + c.bound.Addr
	out := []string{self}
	for _, p := range c.peers {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Gather asks every process for part (a route under /admin/v1/) with
// query, forwarding the caller's Authorization header, in parallel.
func (c *Console) Gather(ctx context.Context, part, query, authorization string) []Answer {
	procs := c.processes()
	out := make([]Answer, len(procs))
	var wg sync.WaitGroup
	for i, base := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.ask(ctx, base, part, query, authorization)
			out[i].Self = i == 0
		}()
	}
	wg.Wait()
	return out
}

func (c *Console) ask(ctx context.Context, base, part, query, authorization string) Answer {
	a := Answer{Admin: base}
	url := base + admin.Prefix + "/" + part
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	if authorization != "" {
		req.Header.Set(echo.HeaderAuthorization, authorization)
	}
	res, err := c.client.Do(req)
	if err != nil {
		a.Error = "unreachable"
		return a
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	a.Status = res.StatusCode
	switch {
	case err != nil:
		a.Error = "answer cut short"
	case !json.Valid(body):
		a.Error = fmt.Sprintf("not JSON (HTTP %d)", res.StatusCode)
	default:
		a.Body = body
	}
	return a
}

// Mount serves the page, its assets, /admin/v1/system/:part and the
// replay through this process on s, guarded by access.
func (c *Console) Mount(s *admin.Server, pages *webui.Files, access *Access) {
	s.Handle(http.MethodGet, "/console", "The operator console (a page)", pages.Page("console.html"))
	s.Handle(http.MethodGet, "/console/assets/:file", "The console's scripts and styles", pages.Asset)
	s.Handle(http.MethodPost, admin.Prefix+"/system/replay", "Replay dead letters in the process at ?admin= (this one or a peer); body {module, id}",
		access.Act(c.replay))
	s.Handle(http.MethodGet, admin.Prefix+"/system/:part", "One part of the admin API of this process and of every peer (ADMIN_PEERS)",
		access.Read(func(ec echo.Context) error {
			part := ec.Param("part")
			if !c.parts.Has(part) {
				return echo.ErrNotFound
			}
			answers := c.Gather(ec.Request().Context(), part, ec.QueryString(), ec.Request().Header.Get(echo.HeaderAuthorization))
			return ec.JSON(http.StatusOK, map[string]any{"processes": answers})
		}))
}

// replay forwards a replay to the process named by ?admin=, which must be
// this one or a peer: never an address the caller makes up.
func (c *Console) replay(ec echo.Context) error {
	target := ec.QueryParam("admin")
	if !slices.Contains(c.processes(), target) {
		return problem.Invalid("admin", "must be this process's or a peer's admin URL")
	}
	body, err := io.ReadAll(io.LimitReader(ec.Request().Body, 4096))
	if err != nil {
		return problem.Malformed("body", "could not be read")
	}
	req, err := http.NewRequestWithContext(ec.Request().Context(), http.MethodPost, target+admin.Prefix+"/events/replay", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if a := ec.Request().Header.Get(echo.HeaderAuthorization); a != "" {
		req.Header.Set(echo.HeaderAuthorization, a)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return problem.ErrUnavailable
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return problem.ErrUnavailable
	}
	ct := res.Header.Get(echo.HeaderContentType)
	if ct == "" {
		ct = echo.MIMEApplicationJSON
	}
	return ec.Blob(res.StatusCode, ct, out)
}
