package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Provision creates the module's schema, and in per-module mode its role,
// which owns the schema and has no rights on any other. Several processes
// may provision at once; an advisory lock serialises them.
func Provision(ctx context.Context, t Target) error {
	if t.AdminURL == "" {
		return nil
	}
	// Roles are global to the cluster while advisory locks are per database,
	// so processes provisioning other databases can still collide on a role
	// (duplicate key, "tuple concurrently updated"); a retry then finds it.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = provisionOnce(ctx, t); err == nil || !isRace(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

func isRace(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "42710", "XX000", "40001", "40P01":
		return true
	}
	return false
}

func provisionOnce(ctx context.Context, t Target) error {
	conn, err := pgx.Connect(ctx, t.AdminURL)
	if err != nil {
		return fmt.Errorf("connect to provision %s: %w", t.Module, err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("provision %s: %w", t.Module, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('mitosis.provision'))"); err != nil {
		return fmt.Errorf("provision %s: lock: %w", t.Module, err)
	}
	schema := pgx.Identifier{t.Schema}.Sanitize()
	stmts := []string{"CREATE SCHEMA IF NOT EXISTS " + schema}
	if t.Role != "" {
		role := pgx.Identifier{t.Role}.Sanitize()
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", t.Role).Scan(&exists); err != nil {
			return fmt.Errorf("provision %s: look up role: %w", t.Module, err)
		}
		verb := "CREATE"
		if exists {
			verb = "ALTER"
		}
		// The password is hex, so quoting it as a literal is safe.
		stmts = []string{
			fmt.Sprintf("%s ROLE %s LOGIN PASSWORD '%s'", verb, role, rolePassword(t.AdminURL, t.Role)),
			// The admin must be a member to hand the schema over (needed when
			// it holds CREATEROLE but is not a superuser).
			fmt.Sprintf("GRANT %s TO CURRENT_USER", role),
			"CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION " + role,
			"ALTER SCHEMA " + schema + " OWNER TO " + role,
			"REVOKE ALL ON SCHEMA public FROM " + role,
		}
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("provision %s: %w (with a database where roles cannot be created, set DATABASE_ROLES=single)", t.Module, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("provision %s: %w", t.Module, err)
	}
	return nil
}
