package db_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/pgtest"
)

// ownerWithoutCreateRole makes a database owned by a role that may create
// schemas but not roles, as on many hosted PostgreSQL services, and returns
// its URL.
func ownerWithoutCreateRole(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	adminURL := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	u, err := url.Parse(adminURL)
	require.NoError(t, err)
	dbName := u.Path[1:]
	role := "owner_" + dbName
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD 'owner-password' NOCREATEROLE NOSUPERUSER",
		"GRANT CREATE ON DATABASE " + dbName + " TO " + role,
	} {
		_, err := conn.Exec(ctx, stmt)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
		if err == nil {
			defer c.Close(context.Background())
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
		}
	})
	u.User = url.UserPassword(role, "owner-password")
	return u.String()
}

func TestWithoutCreateRoleSingleRoleWorks(t *testing.T) {
	ownerURL := ownerWithoutCreateRole(t)

	perModule := sharedConfig(ownerURL)
	_, err := prepare(perModule, "orders")
	require.ErrorContains(t, err, "DATABASE_ROLES=single", "the error says what to do")

	single := sharedConfig(ownerURL)
	single.Database.Roles = config.RolesSingle
	target := prepared(t, single, "orders")
	require.Empty(t, target.Role)
	prepared(t, single, "payments")
}
