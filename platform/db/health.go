package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uptrace/bun"

	"mitosis/platform/health"
)

// Names of a module's checks in /health.
const (
	CheckDatabase   = "database"
	CheckMigrations = "migrations"
)

// Pending lists the migrations of the embedded tree that the module's
// schema has not applied, reading the history table only (nothing is
// created or locked): a missing table is an error.
func (m *Migrator) Pending(ctx context.Context) ([]string, error) {
	ms, err := m.inner.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration history of %s: %w", m.module, err)
	}
	var pending []string
	for _, mig := range ms {
		if !mig.IsApplied() {
			pending = append(pending, mig.Name+"_"+mig.Comment)
		}
	}
	return pending, nil
}

// watch adds the module's readiness checks (its database answers, its
// migrations are all applied) and its connection pool's statistics
// (go_sql_* with db_name=<module>).
func watch(module string, bdb *bun.DB, m *Migrator, checks *health.Registry, reg prometheus.Registerer) error {
	checks.Add(module, CheckDatabase, func(ctx context.Context) error { return bdb.PingContext(ctx) })
	checks.Add(module, CheckMigrations, func(ctx context.Context) error {
		pending, err := m.Pending(ctx)
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			return fmt.Errorf("%d migration(s) not applied: %s", len(pending), strings.Join(pending, ", "))
		}
		return nil
	})
	return reg.Register(collectors.NewDBStatsCollector(bdb.DB, module))
}
