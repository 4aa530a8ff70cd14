package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrations is the tree of SQL migrations, one folder per module, plus
// sets that every module gets in its own schema (the events outbox and
// inbox, owned by platform/events), applied and tracked with the module's
// own: their names are timestamps like any other migration.
type Migrations struct {
	FS     fs.FS
	Shared []fs.FS
}

// Migrator runs one module's migrations. bun's migrator tracks them in a
// table inside the module's schema (search_path), so each module has its own
// history.
type Migrator struct {
	db     *bun.DB
	module string
	inner  *migrate.Migrator
}

// NewMigrator loads the module's migrations from tree.
func NewMigrator(db *bun.DB, tree Migrations, module string) (*Migrator, error) {
	sub, err := fs.Sub(tree.FS, module)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", module, err)
	}
	ms := migrate.NewMigrations()
	for _, set := range append([]fs.FS{sub}, tree.Shared...) {
		if err := ms.Discover(set); err != nil {
			return nil, fmt.Errorf("migrations of %s: %w", module, err)
		}
	}
	inner := migrate.NewMigrator(db, ms,
		migrate.WithTableName("schema_migrations"),
		migrate.WithLocksTableName("schema_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true))
	return &Migrator{db: db, module: module, inner: inner}, nil
}

// Up applies every pending migration; it returns the names applied.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var applied []string
	err := m.locked(ctx, func() error {
		group, err := m.inner.Migrate(ctx)
		if err != nil {
			return err
		}
		for _, mig := range group.Migrations {
			applied = append(applied, mig.Name+"_"+mig.Comment)
		}
		return nil
	})
	return applied, err
}

// Down rolls back the last applied group; it returns the names rolled back.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var undone []string
	err := m.locked(ctx, func() error {
		group, err := m.inner.Rollback(ctx)
		if err != nil {
			return err
		}
		for _, mig := range group.Migrations {
			undone = append(undone, mig.Name+"_"+mig.Comment)
		}
		return nil
	})
	return undone, err
}

// Status is one migration and whether it is applied.
type Status struct {
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// Status lists every known migration in order.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	if err := m.inner.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", m.module, err)
	}
	ms, err := m.inner.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status of %s: %w", m.module, err)
	}
	out := make([]Status, 0, len(ms))
	for _, mig := range ms {
		out = append(out, Status{Name: mig.Name + "_" + mig.Comment, Applied: mig.IsApplied()})
	}
	return out, nil
}

// locked runs fn under a session advisory lock per schema, so processes that
// start together never migrate one schema twice. (bun's own table lock is
// left stale by a crash; an advisory lock dies with its session.)
func (m *Migrator) locked(ctx context.Context, fn func() error) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.module, err)
	}
	defer conn.Close()
	key := "mitosis.migrate." + m.module
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext(?))", key); err != nil {
		return fmt.Errorf("migrate %s: lock: %w", m.module, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext(?))", key) //nolint:errcheck // the lock dies with the session anyway
	if err := m.inner.Init(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", m.module, err)
	}
	if err := fn(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %s: %w", m.module, err)
	}
	return nil
}

var migrationName = regexp.MustCompile(`^[a-z0-9_]+$`)

// Create writes an empty up/down pair into dir/<module>/ and returns the paths.
func Create(dir, module, name string, now time.Time) ([]string, error) {
	if !migrationName.MatchString(name) {
		return nil, fmt.Errorf("migration name %q must be lowercase letters, digits and underscores", name)
	}
	folder := filepath.Join(dir, module)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(folder, now.UTC().Format("20060102150405")+"_"+name)
	var paths []string
	for _, dirn := range []string{"up", "down"} {
		p := base + ".tx." + dirn + ".sql"
		body := fmt.Sprintf("-- %s: %s (%s)\n", module, name, dirn)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
