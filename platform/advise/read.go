// Package advise predicts what a placement of the modules would cost: it
// reads what running processes recorded of their requests (the contract
// calls each made, per route, with the bytes they carried; see
// contract.Record), measures what one contract call over HTTP costs on
// this deployment (the hop probe), and prints for each candidate
// placement the latency it would add to each public route, the CPU, the
// calls and bytes that would cross the network, and the edges to blame.
// `app advise` is its command.
package advise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"mitosis/platform/contract"
)

// Process is what one process's admin listener reports.
type Process struct {
	Admin string `json:"admin"`
	// Services are the modules it runs; Modules every module it knows.
	Services []string               `json:"services"`
	Modules  []string               `json:"modules"`
	Edges    []contract.EdgeCount   `json:"edges"`
	Routes   []contract.RouteRecord `json:"routes"`
}

// placement is the part of /admin/v1/placement the advisor reads.
type placement struct {
	Process struct {
		Services []string `json:"services"`
	} `json:"process"`
	Modules []struct {
		Name string `json:"name"`
	} `json:"modules"`
}

// Admin is a client of processes' admin listeners.
type Admin struct {
	HTTP *http.Client
	// Token, when set, is sent as a bearer token: the console's routes
	// want an admin's access token outside development.
	Token string
}

// Read fetches the records of the process whose admin listener is at base
// (http://127.0.0.1:9090).
func (a Admin) Read(ctx context.Context, base string) (Process, error) {
	base = strings.TrimRight(base, "/")
	var p placement
	if err := a.get(ctx, base+"/admin/v1/placement", &p); err != nil {
		return Process{}, err
	}
	var edges struct {
		Edges []contract.EdgeCount `json:"edges"`
	}
	if err := a.get(ctx, base+"/admin/v1/edges", &edges); err != nil {
		return Process{}, err
	}
	var routes struct {
		Routes []contract.RouteRecord `json:"routes"`
	}
	if err := a.get(ctx, base+"/admin/v1/routes", &routes); err != nil {
		return Process{}, err
	}
	out := Process{Admin: base, Services: p.Process.Services, Edges: edges.Edges, Routes: routes.Routes}
	for _, m := range p.Modules {
		out.Modules = append(out.Modules, m.Name)
	}
	return out, nil
}

// ReadAll reads every process at bases: the records of those that
// answered (each with its base in Admin), the bases of those that did not,
// and why, one error each.
func (a Admin) ReadAll(ctx context.Context, bases []string) (procs []Process, unreachable []string, err error) {
	var errs []error
	for _, base := range bases {
		p, err := a.Read(ctx, base)
		if err != nil {
			unreachable = append(unreachable, base)
			errs = append(errs, fmt.Errorf("read the records of %s: %w", base, err))
			continue
		}
		procs = append(procs, p)
	}
	return procs, unreachable, errors.Join(errs...)
}

// System asks the process at base for its advice on the whole system it
// sees, itself and its ADMIN_PEERS (the console's GET /admin/v1/advise):
// the hop is measured there, by the process probing itself.
func (a Admin) System(ctx context.Context, base string, separate []string) (SystemReport, error) {
	u := strings.TrimRight(base, "/") + "/admin/v1/advise"
	if len(separate) > 0 {
		u += "?" + url.Values{"separate": {strings.Join(separate, ",")}}.Encode()
	}
	var out SystemReport
	return out, a.get(ctx, u, &out)
}

// NoRecords says why there is nothing to weigh yet.
const NoRecords = "no recorded requests yet (RECORD_EVERY=0 records none): send some traffic first"

// Probe asks the process at base to time round trips to itself.
func (a Admin) Probe(ctx context.Context, base string, in ProbeRequest) (ProbeResult, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return ProbeResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/admin/v1/advise/probe", strings.NewReader(string(body)))
	if err != nil {
		return ProbeResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out ProbeResult
	return out, a.do(req, &out)
}

func (a Admin) get(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return a.do(req, out)
}

func (a Admin) do(req *http.Request, out any) error {
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s answered %d: %s", req.Method, req.URL, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return nil
}
