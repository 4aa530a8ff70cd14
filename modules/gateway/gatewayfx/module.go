// Package gatewayfx wires the gateway module into an fx app. It sits beside
// the contract, as the other modules' wiring does.
package gatewayfx

import (
	"log/slog"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	"mitosis/modules/gateway"
	"mitosis/modules/gateway/internal/details"
	"mitosis/modules/gateway/internal/proxy"
	"mitosis/modules/gateway/internal/ratelimit"
	"mitosis/modules/gateway/internal/services"
	"mitosis/modules/gateway/internal/settings"
	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/health"
	"mitosis/platform/httpserver"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
)

// Spec describes the gateway. It depends on every module it composes
// answers from, so a gateway-only process needs their URLs; the others'
// routes it proxies to wherever they run. Nothing calls the gateway, so its
// remote side is empty.
var Spec = topology.Spec{
	Name:      gateway.Name,
	OpenAPI:   gateway.OpenAPI,
	DependsOn: []string{"users", "orders", "payments"},
	// Its own routes, so logs, metrics and traces show it answering them;
	// it proxies the others' where they run elsewhere.
	Routes:    []string{services.Path, details.Path},
	Proxies:   true,
	Stateless: true,
	Settings:  settings.Section(gateway.Name),
	Local: fx.Options(
		fx.Provide(fx.Private, func(c config.Config) settings.Settings { return config.SectionOf[settings.Settings](c, gateway.Name) }),
		fx.Invoke(func(r *httpserver.Router, cfg settings.Settings, tokens *auth.Verifier) error {
			lim, err := ratelimit.New(cfg.RateLimits, tokens)
			if err != nil {
				return err
			}
			if r.Echo.IPExtractor, err = ratelimit.IPExtractor(cfg.TrustedProxies); err != nil {
				return err
			}
			return r.Pre(lim.Middleware)
		}),
		fx.Invoke(func(r *httpserver.Router, place topology.Placement, cfg settings.Settings, services *auth.ServiceAuth, tracing *telemetry.Tracing, log *slog.Logger) error {
			if err := r.Pre(proxy.HideInternal(place, services.GuardInternal)); err != nil {
				return err
			}
			return proxy.Mount(r.Echo, place, cfg.ProxyTimeout, cfg.TrustedProxies, tracing, log)
		}),
		fx.Invoke(func(e *echo.Echo, cfg settings.Settings, tokens *auth.Verifier, o orders.Service, u users.Service, p payments.Service) {
			details.Mount(e, details.New(o, u, p, cfg.PartTimeout), tokens)
		}),
		// The modules behind the gateway are what it serves: one unhealthy
		// makes this process's /health unhealthy (readiness is unchanged).
		fx.Invoke(func(checks *health.Registry) { checks.Fronts(gateway.Name) }),
		fx.Invoke(services.Mount),
	),
	Remote: fx.Options(),
}
