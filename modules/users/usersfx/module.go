// Package usersfx wires the users module into an fx app. It sits beside
// the contract rather than in it because the implementation imports the
// contract, and Go forbids the cycle back.
package usersfx

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"mitosis/modules/orders"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/httpapi"
	"mitosis/modules/users/internal/keys"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/contract"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/topology"
)

// Spec describes the users module for both placements. Locally it also
// provides the auth.KeySource, so this process verifies tokens with its
// own keys and no HTTP.
var Spec = topology.Spec{
	Name:         "users",
	OpenAPI:      users.OpenAPI,
	Publishes:    []string{users.EventUserRegistered},
	Subscribes:   []string{orders.EventOrderConfirmed, orders.EventOrderCancelled},
	Routes:       []string{"/api/v1/users", "/api/v1/auth", "/.well-known"},
	IssuesTokens: true,
	Settings:     httpapi.Section("users"),
	Check:        check,
	Local: fx.Options(
		fx.Provide(
			fx.Private,
			db.ForModule("users"),
			store.New,
			newRing,
			newIssuer,
			app.New,
		),
		fx.Provide(func(s *app.Service, reg *contract.Registry) users.Service { return httpapi.API.Local(s, reg) }),
		fx.Provide(func(r *keys.Ring) auth.KeySource { return r }),
		fx.Invoke(httpapi.Mount),
		fx.Invoke(backfillOnStart),
		fx.Invoke(mountConsoleLogin),
		events.Outbox("users"),
		events.Subscriber("users", app.Handlers(), events.BatchHandlers(app.BatchHandlers())),
	),
	Remote:   fx.Options(httpapi.API.RemoteOption(), fx.Invoke(mountConsoleLogin)),
	Contract: httpapi.API,
	Commands: commands,
}

// check names what users needs where it runs: the secret that seals its
// signing keys (required in production).
func check(cfg config.Config) []string {
	if problem := auth.CheckSecret(cfg, signingKeySecret, cfg.Auth.SigningKeySecret); problem != "" {
		return []string{problem + " where users runs (it seals the signing keys)"}
	}
	return nil
}

// newRing seals keys with SIGNING_KEY_SECRET (required in production) and
// makes sure, once migrations have run, that a signing key exists.
func newRing(lc fx.Lifecycle, cfg config.Config, log *slog.Logger, s *store.Store) (*keys.Ring, error) {
	ring, err := openRing(cfg, log, s)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: ring.Load})
	return ring, nil
}

// backfillOnStart gives accounts older than canonical emails theirs, once
// migrations (earlier start hooks) have added the column.
func backfillOnStart(lc fx.Lifecycle, s *store.Store, log *slog.Logger) {
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		return app.BackfillCanonicalEmails(ctx, s, log)
	}})
}

func newIssuer(cfg config.Config) *auth.Issuer {
	return auth.NewIssuer(cfg.Auth.Issuer, cfg.Auth.Audience, cfg.Auth.TokenTTL, time.Now)
}
