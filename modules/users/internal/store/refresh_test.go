package store_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/migrations"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func newStore(t *testing.T) (*store.Store, *bun.DB) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	cfg := config.Config{Database: config.Database{URL: url, Isolation: config.Shared, Roles: config.RolesPerModule}}
	target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: url}, "users")
	require.NoError(t, err)
	bdb, err := db.Open(target, 4)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bdb.Close() })
	require.NoError(t, db.Prepare(context.Background(), target, bdb, db.Migrations{FS: migrations.FS}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	return store.New(bdb), bdb
}

// TestAnExpiredRefreshTokenIsRefused: past its expiry a refresh token is
// refused like an unknown one, and has no successor.
func TestAnExpiredRefreshTokenIsRefused(t *testing.T) {
	ctx := context.Background()
	s, bdb := newStore(t)
	user := uuid.NewString()
	_, err := bdb.ExecContext(ctx, "INSERT INTO users (id, email, name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, now())",
		user, "exp@example.test", "Exp", "x", users.RoleCustomer)
	require.NoError(t, err)
	issued := time.Now().UTC().Truncate(time.Microsecond)
	hash := sha256.Sum256([]byte("refresh"))
	require.NoError(t, s.InsertRefresh(ctx, store.RefreshRow{TokenHash: hash[:], FamilyID: uuid.NewString(), UserID: user,
		CreatedAt: issued, ExpiresAt: issued.Add(time.Hour)}))

	successors := 0
	next := func(old store.RefreshRow) store.RefreshRow {
		successors++
		h := sha256.Sum256([]byte("successor"))
		return store.RefreshRow{TokenHash: h[:], FamilyID: old.FamilyID, UserID: old.UserID, CreatedAt: issued, ExpiresAt: issued.Add(time.Hour)}
	}
	_, err = s.Spend(ctx, hash[:], issued.Add(time.Hour), next)
	require.ErrorIs(t, err, store.ErrRefreshInvalid, "expired at its expiry")
	require.Zero(t, successors)
	_, err = s.Spend(ctx, hash[:], issued.Add(time.Hour-time.Second), next)
	require.NoError(t, err, "valid until then")
	require.Equal(t, 1, successors)
}
