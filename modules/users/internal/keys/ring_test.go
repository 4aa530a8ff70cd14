package keys_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/migrations"
	"mitosis/modules/users/internal/keys"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/pgtest"
	"mitosis/platform/problem"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const ttl = 15 * time.Minute

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func usersDB(t *testing.T) *bun.DB {
	t.Helper()
	url := pgtest.NewDatabase(t)
	cfg := config.Config{Database: config.Database{URL: url, Isolation: config.Shared, Roles: config.RolesPerModule}}
	target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: url}, "users")
	require.NoError(t, err)
	bdb, err := db.Open(target, 4)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bdb.Close() })
	require.NoError(t, db.Prepare(context.Background(), target, bdb, db.Migrations{FS: migrations.FS}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	return bdb
}

func sealer(t *testing.T, secret string) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer([]byte(secret))
	require.NoError(t, err)
	return s
}

func kids(t *testing.T, r *keys.Ring) []string {
	t.Helper()
	set, err := r.JWKS(context.Background())
	require.NoError(t, err)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// TestRotationKeepsOldTokensValidUntilTheyExpire rotates the signing key
// and checks that tokens of the old key verify until they expire, new ones
// carry the new kid, and the JWKS lists both, then only the new one.
func TestRotationKeepsOldTokensValidUntilTheyExpire(t *testing.T) {
	ctx := context.Background()
	st := store.New(usersDB(t))
	clk := &clock{t: time.Now()}
	ring := keys.NewRing(st, sealer(t, "first-secret-first-secret-first-secret"), ttl, 0, clk.now)
	require.NoError(t, ring.Load(ctx))
	issuer := auth.NewIssuer("mitosis", "mitosis-api", ttl, clk.now)
	verifier := auth.NewVerifier(ring, "mitosis", "mitosis-api", clk.now)

	oldKey, err := ring.Signing(ctx)
	require.NoError(t, err)
	oldToken, err := issuer.Issue(oldKey, "user-1", auth.RoleCustomer)
	require.NoError(t, err)

	clk.t = clk.t.Add(time.Minute)
	newKid, err := ring.Rotate(ctx)
	require.NoError(t, err)
	require.NotEqual(t, oldKey.ID, newKid)
	assert.Equal(t, []string{newKid, oldKey.ID}, kids(t, ring), "the JWKS lists both, newest first")

	stillOld, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, oldKey.ID, stillOld.ID, "the new key signs only once published for a while")
	clk.t = clk.t.Add(auth.PublishLead)
	newKey, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, newKid, newKey.ID, "then new tokens use the new kid")
	newToken, err := issuer.Issue(newKey, "user-1", auth.RoleCustomer)
	require.NoError(t, err)
	for _, tok := range []string{oldToken.Token, newToken.Token} {
		_, err := verifier.Verify(ctx, tok)
		require.NoError(t, err)
	}

	// Once every token of the old key has expired, it leaves the JWKS.
	clk.t = clk.t.Add(ttl + 5*time.Minute)
	assert.Equal(t, []string{newKid}, kids(t, ring))
	_, err = ring.PublicKey(ctx, oldKey.ID)
	require.ErrorIs(t, err, auth.ErrUnknownKey)
	_, err = verifier.Verify(ctx, oldToken.Token)
	require.ErrorIs(t, err, problem.ErrUnauthorized)
}

// TestReplicasShareOneKey: a second replica (or the CLI) finds the key the
// first created, picks up a rotation made elsewhere, and a wrong
// SIGNING_KEY_SECRET fails loudly instead of minting keys of its own.
func TestReplicasShareOneKey(t *testing.T) {
	ctx := context.Background()
	st := store.New(usersDB(t))
	clk := &clock{t: time.Now()}
	secret := "shared-secret-shared-secret-shared-secret"
	a := keys.NewRing(st, sealer(t, secret), ttl, 0, clk.now)
	b := keys.NewRing(st, sealer(t, secret), ttl, 0, clk.now)
	require.NoError(t, a.Load(ctx))
	require.NoError(t, b.Load(ctx))
	ka, err := a.Signing(ctx)
	require.NoError(t, err)
	kb, err := b.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, ka.ID, kb.ID)

	rotated, err := b.Rotate(ctx)
	require.NoError(t, err)
	_, err = a.PublicKey(ctx, rotated)
	require.ErrorIs(t, err, auth.ErrUnknownKey, "unknown kids reload at most once a second")
	clk.t = clk.t.Add(2 * time.Second)
	_, err = a.PublicKey(ctx, rotated)
	require.NoError(t, err, "an unknown kid makes the other replica reload")
	_, err = a.PublicKey(ctx, ka.ID)
	require.NoError(t, err, "the retired key still verifies")
	clk.t = clk.t.Add(auth.PublishLead)
	ka, err = a.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, rotated, ka.ID, "the other replica signs with the new key too")

	wrong := keys.NewRing(st, sealer(t, "another-secret-another-secret-another"), ttl, 0, clk.now)
	require.ErrorContains(t, wrong.Load(ctx), "SIGNING_KEY_SECRET")
	_, err = wrong.Rotate(ctx)
	require.ErrorContains(t, err, "SIGNING_KEY_SECRET", "a wrong secret cannot replace the key either")
	ka, err = a.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, rotated, ka.ID)
}

// TestKeysRotateByAge: with a maximum age, an old key is replaced on load.
func TestKeysRotateByAge(t *testing.T) {
	ctx := context.Background()
	st := store.New(usersDB(t))
	clk := &clock{t: time.Now()}
	ring := keys.NewRing(st, sealer(t, "age-secret-age-secret-age-secret-age"), ttl, 24*time.Hour, clk.now)
	require.NoError(t, ring.Load(ctx))
	first, err := ring.Signing(ctx)
	require.NoError(t, err)
	clk.t = clk.t.Add(23 * time.Hour)
	same, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.ID, same.ID)
	clk.t = clk.t.Add(2 * time.Hour)
	_, err = ring.Signing(ctx)
	require.NoError(t, err)
	clk.t = clk.t.Add(auth.PublishLead)
	next, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, next.ID)
	assert.Len(t, kids(t, ring), 2, "the aged key stays published for its tokens")
}

// TestAnAgedKeyIsReplacedAtOnce: a key due by age is replaced when next
// used, not at the next periodic reload, however short the maximum age; the
// new key is published at once and signs PublishLead later.
func TestAnAgedKeyIsReplacedAtOnce(t *testing.T) {
	ctx := context.Background()
	st := store.New(usersDB(t))
	clk := &clock{t: time.Now()}
	ring := keys.NewRing(st, sealer(t, "aged-secret-aged-secret-aged-secret-0"), ttl, 10*time.Second, clk.now)
	require.NoError(t, ring.Load(ctx))
	first, err := ring.Signing(ctx)
	require.NoError(t, err)
	clk.t = clk.t.Add(9 * time.Second)
	same, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.ID, same.ID)
	assert.Equal(t, []string{first.ID}, kids(t, ring))

	clk.t = clk.t.Add(2 * time.Second)
	same, err = ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.ID, same.ID, "the new key does not sign yet")
	published := kids(t, ring)
	require.Len(t, published, 2, "but it is published")
	assert.Equal(t, first.ID, published[1])

	clk.t = clk.t.Add(auth.PublishLead - time.Second)
	same, err = ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, first.ID, same.ID)
	clk.t = clk.t.Add(time.Second)
	next, err := ring.Signing(ctx)
	require.NoError(t, err)
	assert.Equal(t, published[0], next.ID, "once published for PublishLead, it signs")
	_, err = ring.PublicKey(ctx, first.ID)
	require.NoError(t, err, "the aged key still verifies")
}

// TestPrivateKeysAreSealed: the stored private half is not the seed.
func TestPrivateKeysAreSealed(t *testing.T) {
	ctx := context.Background()
	st := store.New(usersDB(t))
	ring := keys.NewRing(st, sealer(t, "seal-secret-seal-secret-seal-secret-0"), ttl, 0, time.Now)
	require.NoError(t, ring.Load(ctx))
	key, err := ring.Signing(ctx)
	require.NoError(t, err)
	rows, err := st.PublishedKeys(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.NotContains(t, string(rows[0].PrivateKey), string(key.Private.Seed()))
	assert.Len(t, rows[0].PrivateKey, 12+32+16, "nonce, sealed seed, GCM tag")
}
