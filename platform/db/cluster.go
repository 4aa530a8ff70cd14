// Package db gives each local module its own connection, confined to its
// own schema (and, in shared mode, its own PostgreSQL role), and runs each
// module's migrations.
package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/pgserver"
	"mitosis/platform/topology"
)

// embeddedDatabase is the database the embedded server holds.
const embeddedDatabase = "mitosis"

// Cluster is the shared database: DATABASE_URL, or the embedded server
// started from the machine's PostgreSQL binaries when it is unset.
type Cluster struct {
	// AdminURL connects with the rights to create schemas (and roles).
	AdminURL string
	// Embedded is set when this process started the server itself.
	Embedded bool
	server   *pgserver.Server

	mu      sync.Mutex
	schemas []schemaMigrator // of the local modules, for the console
}

// NewCluster resolves the shared database, starting the embedded server if
// needed; fx stops it with the app.
func NewCluster(lc fx.Lifecycle, cfg config.Config, place topology.Placement, log *slog.Logger) (*Cluster, error) {
	if cfg.Database.URL != "" {
		return &Cluster{AdminURL: cfg.Database.URL}, nil
	}
	if !needsShared(cfg, place.LocalData()) {
		return &Cluster{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := StartEmbedded(ctx, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(c.Stop))
	return c, nil
}

// needsShared reports whether a local module keeps its data in the shared
// database without a URL of its own.
func needsShared(cfg config.Config, local []string) bool {
	for _, name := range local {
		if cfg.Isolation(name) == config.Shared && cfg.Module(name).Database.URL == "" {
			return true
		}
	}
	return false
}

// StartEmbedded starts (or restarts) the private server under dataDir.
func StartEmbedded(ctx context.Context, dataDir string, log *slog.Logger) (*Cluster, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return nil, err
	}
	log.Info("DATABASE_URL not set: starting the embedded PostgreSQL", "dir", dir)
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Fsync: true, Logger: log, Attach: true})
	if err != nil {
		return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if err := ensureDatabase(ctx, srv.URL("postgres"), embeddedDatabase); err != nil {
		return nil, errors.Join(err, srv.Stop(ctx))
	}
	log.Info("embedded PostgreSQL ready", "dir", srv.Dir(), "database", embeddedDatabase)
	return &Cluster{AdminURL: srv.URL(embeddedDatabase), Embedded: true, server: srv}, nil
}

// Stop stops the embedded server, if this process started one.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.server == nil {
		return nil
	}
	return c.server.Stop(ctx)
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
