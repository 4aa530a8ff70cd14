// Package topology decides, from configuration alone, which modules run in
// this process and where the others are found. Modules describe themselves
// with a Spec; domain code never sees the decision.
package topology

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"go.uber.org/fx"

	"mitosis/platform/config"
)

// Spec describes one module: what it needs, and how to wire it either way.
type Spec struct {
	Name      string
	DependsOn []string
	// Publishes lists the event types the module writes to its outbox.
	Publishes []string
	// Subscribes lists the event types the module handles, from any module.
	Subscribes []string
	// Routes are the public path prefixes the module serves, so a gateway
	// knows where to send them when the module runs elsewhere, and traces
	// know which module answered (a segment ":name" matches any one).
	Routes []string
	// Proxies marks the module that serves other modules' public routes
	// when they run elsewhere (the gateway): traces show those requests as
	// its own.
	Proxies bool
	// AdminParts are the module's admin routes (GET /admin/v1/<part>, on
	// the admin listener where it runs) that the console gathers from every
	// process (platform/console's registry); the console refuses any other.
	AdminParts []string
	// Stateless modules keep no data: no database, schema or migrations.
	Stateless bool
	// IssuesTokens marks the module that signs access tokens: every process
	// where it does not run fetches its JWKS from its URL to verify them.
	IssuesTokens bool
	// OpenAPI is the module's part of the public API's document (its tags,
	// paths and components), merged with the others' by platform/apidoc.
	OpenAPI []byte
	// Settings declares the module's own section of the configuration
	// (config.NewSection); the zero value for a module without one.
	Settings config.Section
	// Check lists what is wrong with the configuration for running the
	// module here (its own secrets, say), one line each; the startup checks
	// call it where the module is local.
	Check func(config.Config) []string
	// Local provides the implementation and mounts its routes.
	Local fx.Option
	// Remote provides an HTTP client that implements the same contract.
	Remote fx.Option
	// Contract binds the module's contract to each local module that
	// depends on it, so its calls are made (and counted) as that module's;
	// nil for a module nobody calls.
	Contract Binder
	// Commands are the module's maintenance commands (app <name> ...).
	Commands []Command
}

// Binder makes the contract a caller module sees inside its own fx module
// its stub bound to the caller (contract.Contract implements it).
type Binder interface {
	Bind(caller string) fx.Option
	// Verify reports an interface method without its declaration.
	Verify() error
}

// Placement says where every module runs, as seen from this process.
type Placement struct {
	local  []string
	remote map[string]string // module → base URL, for the contract's client
	// subscribers maps an event type to the modules that handle it; sinks
	// holds the URL of a remote subscriber of an event published here.
	subscribers map[string][]string
	sinks       map[string]string
	modules     []Module
}

// Module is what a placement knows of every module, local or not.
type Module struct {
	Name      string
	DependsOn []string
	Routes    []string
	Proxies   bool
	Stateless bool
	Publishes []string
	// AdminParts are its parts of the console, known wherever it runs.
	AdminParts []string
}

// Plan validates SERVICES and the module URLs against the specs. Every
// dependency of a local module must be local or have a URL (its own or
// OTHER_MODULES_URL, see config.ModuleURL), and so must every module
// subscribed to an event a local module publishes (unless events go
// through a broker); the error names all that are missing at once, one
// line each.
func Plan(specs []Spec, cfg config.Config) (Placement, error) {
	known := map[string]Spec{}
	for _, s := range specs {
		known[s.Name] = s
	}
	local, err := LocalModules(specs, cfg.Services)
	if err != nil {
		return Placement{}, err
	}
	p := Placement{local: local, remote: map[string]string{}, subscribers: map[string][]string{}, sinks: map[string]string{}}
	for _, s := range specs {
		p.modules = append(p.modules, Module{Name: s.Name, DependsOn: s.DependsOn, Routes: s.Routes, Proxies: s.Proxies, Stateless: s.Stateless, Publishes: s.Publishes,
			AdminParts: s.AdminParts})
		for _, typ := range s.Subscribes {
			p.subscribers[typ] = append(p.subscribers[typ], s.Name)
		}
	}
	missing := map[string][]string{}
	need := func(dep, by string, into map[string]string) {
		if p.IsLocal(dep) {
			return
		}
		url := strings.TrimRight(cfg.ModuleURL(dep), "/")
		if url == "" {
			if !slices.Contains(missing[dep], by) {
				missing[dep] = append(missing[dep], by)
			}
			return
		}
		into[dep] = url
	}
	for _, name := range local {
		for _, dep := range known[name].DependsOn {
			need(dep, name, p.remote)
		}
		if known[name].Proxies {
			// A proxy (the gateway) fronts every module with public routes
			// it is given an address for, whether or not it calls it.
			for _, s := range specs {
				if url := strings.TrimRight(cfg.ModuleURL(s.Name), "/"); url != "" && len(s.Routes) > 0 && !p.IsLocal(s.Name) {
					p.remote[s.Name] = url
				}
			}
		}
		if cfg.Events.Broker == config.BrokerNATS {
			continue // subscribers take their events from the broker
		}
		for _, typ := range known[name].Publishes {
			for _, sub := range p.subscribers[typ] {
				need(sub, name+"'s "+typ, p.sinks)
			}
		}
	}
	if len(missing) > 0 {
		var parts []string
		for dep, by := range missing {
			parts = append(parts, fmt.Sprintf("%s (needed by %s; set %s_URL)", dep, strings.Join(by, ", "), strings.ToUpper(dep)))
		}
		sort.Strings(parts)
		errs := make([]error, len(parts))
		for i, part := range parts {
			errs[i] = errors.New("module neither local nor configured: " + part)
		}
		return Placement{}, errors.Join(errs...) // one line each
	}
	return p, nil
}

// LocalModules resolves SERVICES (config.Config.Services) against the
// specs, in their order: empty runs every module, "a,b" those, "-a,-b"
// every module but those (the rest, wherever the others run). A name no
// spec has, the two forms mixed, or a list that leaves nothing to run is
// an error.
func LocalModules(specs []Spec, services []string) ([]string, error) {
	var names, unknown, named, left []string
	for _, s := range specs {
		names = append(names, s.Name)
	}
	for _, entry := range services {
		name, out := strings.CutPrefix(entry, "-")
		if out {
			left = append(left, name)
		} else {
			named = append(named, name)
		}
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	switch {
	case len(unknown) > 0:
		return nil, fmt.Errorf("SERVICES names unknown module(s) %s; known: %s",
			strings.Join(unknown, ", "), strings.Join(names, ", "))
	case len(named) > 0 && len(left) > 0:
		return nil, fmt.Errorf("SERVICES mixes modules to run (%s) and to leave out (-%s): name the ones to run, or only -the ones to leave out",
			strings.Join(named, ", "), strings.Join(left, ", -"))
	case len(named) > 0:
		return named, nil
	}
	var local []string
	for _, name := range names {
		if !slices.Contains(left, name) {
			local = append(local, name)
		}
	}
	if len(local) == 0 {
		return nil, fmt.Errorf("SERVICES leaves out every module (-%s): this process would run none", strings.Join(left, ", -"))
	}
	return local, nil
}

// IsLocal reports whether a module runs in this process.
func (p Placement) IsLocal(name string) bool { return slices.Contains(p.local, name) }

// Local lists the modules of this process.
func (p Placement) Local() []string { return p.local }

// Modules describes every known module, in start order.
func (p Placement) Modules() []Module { return p.modules }

// LocalData lists the local modules that keep data, which need a database.
func (p Placement) LocalData() []string {
	var out []string
	for _, name := range p.local {
		if !slices.ContainsFunc(p.modules, func(m Module) bool { return m.Name == name && m.Stateless }) {
			out = append(out, name)
		}
	}
	return out
}

// URL is the base URL of a remote module ("" if local or unused).
func (p Placement) URL(name string) string {
	if u := p.remote[name]; u != "" {
		return u
	}
	return p.sinks[name]
}

// Subscriptions lists the event types a module subscribes to, sorted.
func (p Placement) Subscriptions(module string) []string {
	var out []string
	for typ, subs := range p.subscribers {
		if slices.Contains(subs, module) {
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// SubscribersOf lists the modules that handle an event type, wherever
// they run.
func (p Placement) SubscribersOf(eventType string) []string { return p.subscribers[eventType] }

// Remote lists the remote modules this process calls, sorted.
func (p Placement) Remote() []string {
	var out []string
	for name := range p.remote {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Options assembles the fx options: each local module inside its own
// fx.Module (so private providers stay private), with its own logger
// (module=<name> on every line), the contracts it depends on bound to it,
// and a client for each remote one this process needs.
func (p Placement) Options(specs []Spec) fx.Option {
	opts := []fx.Option{fx.Supply(p)}
	byName := map[string]Spec{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	for _, s := range specs {
		switch {
		case p.IsLocal(s.Name):
			own := []fx.Option{s.Local, moduleLogger(s.Name)}
			for _, dep := range s.DependsOn {
				if c := byName[dep].Contract; c != nil {
					own = append(own, c.Bind(s.Name))
				}
			}
			opts = append(opts, fx.Module(s.Name, own...))
		case p.remote[s.Name] != "":
			opts = append(opts, fx.Module(s.Name+"-client", s.Remote))
		}
	}
	return fx.Options(opts...)
}

// moduleLogger gives the module's code a logger naming it.
func moduleLogger(name string) fx.Option {
	return fx.Decorate(func(log *slog.Logger) *slog.Logger { return log.With("module", name) })
}

// Describe returns one line per module: where it runs.
func (p Placement) Describe(specs []Spec) []string {
	var lines []string
	for _, s := range specs {
		switch {
		case p.IsLocal(s.Name):
			lines = append(lines, s.Name+": local")
		case p.remote[s.Name] != "":
			lines = append(lines, s.Name+": remote at "+p.URL(s.Name))
		case p.sinks[s.Name] != "":
			lines = append(lines, s.Name+": remote at "+p.URL(s.Name)+" (events only)")
		default:
			lines = append(lines, s.Name+": not used here")
		}
	}
	return lines
}

// TokenIssuer returns the name of the module that signs access tokens, ""
// if none does.
func TokenIssuer(specs []Spec) string {
	for _, s := range specs {
		if s.IssuesTokens {
			return s.Name
		}
	}
	return ""
}

// Sections are the settings the specs declare, for config.Load.
func Sections(specs []Spec) []config.Section {
	var out []config.Section
	for _, s := range specs {
		if s.Settings.Module != "" {
			out = append(out, s.Settings)
		}
	}
	return out
}

// OpenAPI are the specs' parts of the public API's document, in module order.
func OpenAPI(specs []Spec) [][]byte {
	var out [][]byte
	for _, s := range specs {
		if len(s.OpenAPI) > 0 {
			out = append(out, s.OpenAPI)
		}
	}
	return out
}
