package db

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/health"
	"mitosis/platform/telemetry"
)

// Module provides the shared cluster to every local module.
var Module = fx.Module("db", fx.Provide(NewCluster))

// ForModule returns an fx constructor of the named module's *bun.DB. Used
// with fx.Private in the module's own fx.Module, so no other module gets it.
// At start it provisions and migrates (unless MIGRATE_ON_START=false), and it
// adds the module's readiness checks and pool metrics.
func ForModule(module string) any {
	return func(lc fx.Lifecycle, cfg config.Config, cluster *Cluster, tree Migrations, checks *health.Registry, reg prometheus.Registerer,
		tracing *telemetry.Tracing, log *slog.Logger) (*bun.DB, error) {
		t, err := TargetFor(cfg, cluster, module)
		if err != nil {
			return nil, err
		}
		bdb, err := Open(t, cfg.Database.MaxConns)
		if err != nil {
			return nil, err
		}
		if tracing.On() {
			bdb.AddQueryHook(NewTraceHook(tracing.Tracer(module), t.Schema))
		}
		m, err := NewMigrator(bdb, tree, module)
		if err == nil {
			err = watch(module, bdb, m, checks, reg)
		}
		if err != nil {
			return nil, errors.Join(err, bdb.Close())
		}
		cluster.track(module, t.Schema, m)
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				if !cfg.Database.MigrateOnStart {
					return nil
				}
				return Prepare(ctx, t, bdb, tree, log)
			},
			OnStop: func(context.Context) error {
				err := bdb.Close()
				log.Info("shutdown: database pool closed", "module", module)
				return err
			},
		})
		return bdb, nil
	}
}

// Prepare provisions the module's schema and applies pending migrations.
func Prepare(ctx context.Context, t Target, bdb *bun.DB, tree Migrations, log *slog.Logger) error {
	if err := Provision(ctx, t); err != nil {
		return err
	}
	m, err := NewMigrator(bdb, tree, t.Module)
	if err != nil {
		return err
	}
	applied, err := m.Up(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.InfoContext(ctx, "migrations applied", "schema", t.Schema, "migrations", applied)
	}
	return nil
}
