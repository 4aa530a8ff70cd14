// Package process assembles one running process: the platform services
// every module uses, plus each module local or remote as the placement says.
package process

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.uber.org/fx"

	"mitosis/platform/apidoc"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/health"
	"mitosis/platform/httpserver"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
	"mitosis/platform/webui"
)

// Options returns the fx options of a process, and its placement. It fails
// before anything starts when SERVICES or the module URLs are inconsistent.
// site is the base of the public API's document, served by every process
// with every module's part merged in, and the pages (the storefront only
// where the public API is fronted).
func Options(cfg config.Config, specs []topology.Spec, tree db.Migrations, site webui.Site, log *slog.Logger) (fx.Option, topology.Placement, error) {
	place, err := topology.Plan(specs, cfg)
	if err != nil {
		return nil, topology.Placement{}, err
	}
	if err := db.Validate(cfg, place.LocalData()); err != nil {
		return nil, topology.Placement{}, err
	}
	doc, err := apidoc.Parse(site.OpenAPI, topology.OpenAPI(specs)...)
	if err != nil {
		return nil, topology.Placement{}, err
	}
	pages, err := site.Load()
	if err != nil {
		return nil, topology.Placement{}, err
	}
	opts := fx.Options(
		fx.Supply(cfg, tree, log, &httpserver.Bound{}, pages),
		// First, so that it stops last: every other part's last spans are
		// exported before the flush.
		fx.Provide(func(lc fx.Lifecycle) (*telemetry.Tracing, error) { return telemetry.Start(lc, cfg, place.Local(), log) }),
		fx.Invoke(func(*telemetry.Tracing) {}),
		fx.Provide(newPasswords),
		fx.Provide(func(in verifierIn, tracing *telemetry.Tracing) (*auth.Verifier, error) {
			return newVerifier(cfg, in, tracing, log, topology.TokenIssuer(specs))
		}),
		fx.Provide(func(t *telemetry.Tracing, loop *transport.Loopback) *contract.Registry {
			return contract.NewRegistry(contract.Traced(t), contract.Strict(loop), contract.RecordEvery(cfg.Record.Every))
		}),
		fx.Provide(func() (*auth.ServiceAuth, error) { return newServiceAuth(cfg, log, strings.Join(place.Local(), ",")) }),
		fx.Provide(func(services *auth.ServiceAuth) *transport.Factory { return transport.NewFactory(cfg, services, log) }),
		fx.Provide(func(f *transport.Factory, h httpserver.Handler) *transport.Loopback { return loopback(cfg, f, h) }),
		observability(cfg, place, log),
		db.Module,
		httpserver.Module,
		events.Module,
		fx.Invoke(func() {
			for _, line := range place.Describe(specs) {
				log.Info("module placement", "placement", line)
			}
		}),
		place.Options(specs),
		fx.Invoke(func(r *httpserver.Router, checks *health.Registry, services *auth.ServiceAuth, edges *contract.Registry) error {
			e := r.Echo
			checks.Mount(e)
			doc.Mount(e)
			pages.MountPublic(e, fronts(place), cfg.PublicConsoleURL())
			return mountPlatform(r, services, edges)
		}),
		httpserver.Serve, // last: after every module's migrations
	)
	return opts, place, nil
}

// loopback serves the calls between this process's modules through its
// own handler, as the listener serves it, when LOCAL_CALLS=strict; nil
// (direct calls) otherwise.
func loopback(cfg config.Config, f *transport.Factory, h httpserver.Handler) *transport.Loopback {
	if cfg.Calls.Local != config.LocalCallsStrict {
		return nil
	}
	return f.Loopback(h)
}

// newServiceAuth builds the SERVICE_AUTH strategy; config validation has
// already refused unknown strategies, and none outside development.
func newServiceAuth(cfg config.Config, log *slog.Logger, caller string) (*auth.ServiceAuth, error) {
	switch cfg.Auth.ServiceAuth {
	case auth.ServiceAuthAPIKey:
		if len(cfg.Auth.ServiceAPIKey) < 32 {
			return nil, errors.New("SERVICE_API_KEY (at least 32 characters) is required when SERVICE_AUTH=api-key")
		}
		return auth.NewAPIKeyServiceAuth(cfg.Auth.ServiceAPIKey, caller), nil
	case auth.ServiceAuthNone:
		log.Warn("SERVICE_AUTH=none: internal routes accept any caller (development only)")
		return auth.NewNoServiceAuth(caller), nil
	default:
		secret, err := auth.Secret(cfg, log, "SERVICE_SECRET", cfg.Auth.ServiceSecret, "service_secret")
		if err != nil {
			return nil, err
		}
		return auth.NewJWTServiceAuth(secret, caller), nil
	}
}

// jwksTTL: keys are refetched this often, and early on an unknown kid at
// most once per auth.JWKSMinRefresh.
const jwksTTL = 10 * time.Minute

type verifierIn struct {
	fx.In
	// Keys is provided by users when it runs here (its own keys, read
	// in-process); elsewhere the JWKS is fetched over HTTP.
	Keys auth.KeySource `optional:"true"`
}

// newVerifier verifies access tokens with the keys of issuer, the module
// that signs them: in-process where it runs here, else from its JWKS.
func newVerifier(cfg config.Config, in verifierIn, tracing *telemetry.Tracing, log *slog.Logger, issuer string) (*auth.Verifier, error) {
	keys := in.Keys
	if keys == nil {
		switch url := auth.JWKSURL(cfg, issuer); {
		case url != "":
			keys = auth.NewRemoteKeys(url, &http.Client{}, jwksTTL, auth.JWKSMinRefresh).Traced(tracing.Tracer(telemetry.ProcessService))
		case cfg.IsProduction():
			return nil, errors.New(auth.MissingJWKS(issuer))
		default:
			log.Warn("neither JWKS_URL nor the token issuer's URL is set: every access token will be refused here", "issuer", issuer)
			keys = auth.NoKeys{}
		}
	}
	return auth.NewVerifier(keys, cfg.Auth.Issuer, cfg.Auth.Audience, time.Now), nil
}

func newPasswords(cfg config.Config) (*auth.Passwords, error) {
	return auth.NewPasswords(cfg.Auth.PasswordHashCost)
}

// fronts: a module that serves the others' public routes (the gateway)
// runs here, so the storefront is served here too.
func fronts(place topology.Placement) bool {
	for _, m := range place.Modules() {
		if m.Proxies && place.IsLocal(m.Name) {
			return true
		}
	}
	return false
}
