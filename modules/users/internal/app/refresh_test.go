package app_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/store"
)

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
	require.NoError(t, store.InsertRefresh(ctx, s.DB(), store.RefreshRow{TokenHash: hash[:], FamilyID: uuid.NewString(), UserID: user,
		CreatedAt: issued, ExpiresAt: issued.Add(time.Hour)}))

	next := sha256.Sum256([]byte("successor"))
	successor := store.RefreshRow{TokenHash: next[:], CreatedAt: issued, ExpiresAt: issued.Add(time.Hour)}
	successors := func() int64 {
		n, err := bdb.NewSelect().Table("refresh_tokens").Where("token_hash = ?", next[:]).Count(ctx)
		require.NoError(t, err)
		return n
	}
	_, err = app.Spend(ctx, s, hash[:], issued.Add(time.Hour), successor)
	require.ErrorIs(t, err, app.ErrRefreshInvalid, "expired at its expiry")
	require.Zero(t, successors())
	spent, err := app.Spend(ctx, s, hash[:], issued.Add(time.Hour-time.Second), successor)
	require.NoError(t, err, "valid until then")
	require.Equal(t, user, spent.UserID)
	require.Equal(t, int64(1), successors(), "its successor stored")
	_, err = app.Spend(ctx, s, hash[:], issued.Add(time.Minute), successor)
	require.ErrorIs(t, err, app.ErrRefreshReused, "spent twice")
	revoked, err := bdb.NewSelect().Table("refresh_tokens").Where("family_id = ? AND revoked_at IS NOT NULL", spent.FamilyID).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), revoked, "a reuse revokes the whole family, committed")
}
