package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/migrations"
	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Accounts registered before canonical emails were stored get theirs at
// start, oldest first; the younger of two that turn out to share an address
// keeps none and still logs in by its address as typed, and the log says so.
func TestBackfillCanonicalEmails(t *testing.T) {
	ctx := context.Background()
	s, bdb := newStore(t)
	at := time.Now().Add(-time.Hour)
	old := map[string]string{} // email → id, as an older release stored them
	for i, email := range []string{"ivan@example.com", "ｉｖａｎ@example.com", "Straße@Example.com", "zw\u200dj@example.com"} {
		id := uuid.NewString()
		_, err := bdb.ExecContext(ctx, "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, 'Old', 'x', ?)",
			id, email, at.Add(time.Duration(i)*time.Second))
		require.NoError(t, err)
		old[email] = id
	}
	find := func(typed string) string {
		t.Helper()
		acc, err := s.ByEmail(ctx, typed, app.CanonicalEmail(typed))
		require.NoError(t, err, typed)
		return acc.ID
	}
	require.Equal(t, old["ivan@example.com"], find("IVAN@example.com"), "found before the backfill too")

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	require.NoError(t, app.BackfillCanonicalEmails(ctx, s, log))
	canonical := map[string]*string{}
	rows, err := bdb.QueryContext(ctx, "SELECT email, email_canonical FROM users")
	require.NoError(t, err)
	for rows.Next() {
		var email string
		var c *string
		require.NoError(t, rows.Scan(&email, &c))
		canonical[email] = c
	}
	require.NoError(t, rows.Err())
	require.NotNil(t, canonical["ivan@example.com"])
	assert.Equal(t, "ivan@example.com", *canonical["ivan@example.com"], "the older account keeps the address")
	assert.Nil(t, canonical["ｉｖａｎ@example.com"], "the younger one has none")
	require.NotNil(t, canonical["Straße@Example.com"])
	assert.Equal(t, "strasse@example.com", *canonical["Straße@Example.com"])
	assert.NotNil(t, canonical["zw\u200dj@example.com"], "refused today, but it exists")
	assert.Contains(t, logs.String(), old["ｉｖａｎ@example.com"], "the conflict is named")
	assert.Contains(t, logs.String(), "filled=3 conflicts=1")

	assert.Equal(t, old["ivan@example.com"], find("ivan@example.com"))
	assert.Equal(t, old["ivan@example.com"], find("ＩＶＡＮ@example.com"))
	assert.Equal(t, old["ｉｖａｎ@example.com"], find("ｉｖａｎ@example.com"), "by its address exactly as typed")
	assert.Equal(t, old["Straße@Example.com"], find("STRASSE@example.com"))

	logs.Reset()
	require.NoError(t, app.BackfillCanonicalEmails(ctx, s, log), "again: only the conflict is left, and named again")
	assert.Contains(t, logs.String(), "filled=0 conflicts=1")

	err = store.InsertAccount(ctx, s.DB(), store.Account{
		User:           users.User{ID: uuid.NewString(), Email: "Ivan@example.com", Name: "New", Role: users.RoleCustomer, CreatedAt: time.Now()},
		CanonicalEmail: app.CanonicalEmail("Ivan@example.com"), PasswordHash: "x",
	})
	require.ErrorIs(t, err, users.ErrEmailTaken)
}

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
