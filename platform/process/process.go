// Package process assembles one running process: the platform services
// every module uses, plus each module local or remote as the placement says.
package process

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	"mitosis/platform/apidoc"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/health"
	"mitosis/platform/httpserver"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// Options returns the fx options of a process, and its placement. It fails
// before anything starts when SERVICES or the module URLs are inconsistent.
// openAPI is the document of the public API, served by every process.
func Options(cfg config.Config, specs []topology.Spec, tree db.Migrations, openAPI []byte, log *slog.Logger) (fx.Option, topology.Placement, error) {
	place, err := topology.Plan(specs, cfg)
	if err != nil {
		return nil, topology.Placement{}, err
	}
	if err := db.Validate(cfg, place.LocalData()); err != nil {
		return nil, topology.Placement{}, err
	}
	doc, err := apidoc.Parse(openAPI)
	if err != nil {
		return nil, topology.Placement{}, err
	}
	opts := fx.Options(
		fx.Supply(cfg, tree, log, &httpserver.Bound{}),
		fx.Provide(health.NewRegistry, newTokens, newPasswords),
		fx.Provide(func(tokens *auth.Tokens) *transport.Factory {
			return transport.NewFactory(cfg, auth.NewServiceCredentials(tokens, strings.Join(place.Local(), ",")), log)
		}),
		db.Module,
		httpserver.Module,
		events.Module,
		fx.Invoke(func() {
			for _, line := range place.Describe(specs) {
				log.Info("module placement", "module", line)
			}
		}),
		place.Options(specs),
		fx.Invoke(func(e *echo.Echo, checks *health.Registry, tokens *auth.Tokens) {
			e.Use(tokens.GuardInternal)
			checks.Mount(e)
			doc.Mount(e)
		}),
		httpserver.Serve, // last: after every module's migrations
	)
	return opts, place, nil
}

func newTokens(cfg config.Config, log *slog.Logger) (*auth.Tokens, error) {
	secret, err := auth.Secret(cfg, log)
	if err != nil {
		return nil, err
	}
	return auth.NewTokens(secret, cfg.Auth.Issuer, cfg.Auth.TokenTTL), nil
}

func newPasswords(cfg config.Config) (*auth.Passwords, error) {
	return auth.NewPasswords(cfg.Auth.PasswordHashCost)
}
