package db

import (
	"context"
	"sort"
)

type schemaMigrator struct {
	module, schema string
	m              *Migrator
}

// track remembers a local module's migrator, for Migrations.
func (c *Cluster) track(module, schema string, m *Migrator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.schemas = append(c.schemas, schemaMigrator{module: module, schema: schema, m: m})
}

// SchemaMigrations is every known migration of one local module's schema.
type SchemaMigrations struct {
	Module     string   `json:"module"`
	Schema     string   `json:"schema"`
	Migrations []Status `json:"migrations"`
	// Error is why the status could not be read (the database is down).
	Error string `json:"error,omitempty"`
}

// Migrations lists the migrations of every local module's schema, by
// module, as the database has them now.
func (c *Cluster) Migrations(ctx context.Context) []SchemaMigrations {
	c.mu.Lock()
	list := append([]schemaMigrator(nil), c.schemas...)
	c.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].module < list[j].module })
	out := make([]SchemaMigrations, 0, len(list))
	for _, s := range list {
		sm := SchemaMigrations{Module: s.module, Schema: s.schema, Migrations: []Status{}}
		st, err := s.m.Status(ctx)
		if err != nil {
			sm.Error = "the migration status could not be read"
		}
		sm.Migrations = append(sm.Migrations, st...)
		out = append(out, sm)
	}
	return out
}
