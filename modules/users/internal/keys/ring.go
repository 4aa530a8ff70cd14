// Package keys holds the Ed25519 keys users signs access tokens with: kept
// in the users schema with the private half sealed, created on first start,
// rotated by age or by command, and published until the tokens a retired
// key signed have all expired.
package keys

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/users/internal/store"
	"mitosis/platform/auth"
	"mitosis/platform/telemetry"
)

// reloadEvery bounds how long a replica keeps signing with a key another
// replica (or the CLI) has retired.
const reloadEvery = 30 * time.Second

// missReload limits reloads caused by unknown kids, so tokens with made-up
// kids cannot turn into a query each.
const missReload = time.Second

// Ring is the users process's view of its signing keys. It is the local
// auth.KeySource, so users verifies its own tokens without HTTP.
type Ring struct {
	store  *store.Store
	sealer *Sealer
	// publish is how long a retired key stays in the JWKS: the longest a
	// token it signed can live, plus the time a replica may still sign
	// with it, plus the verifiers' leeway.
	publish time.Duration
	maxAge  time.Duration
	now     func() time.Time

	mu       sync.Mutex
	active   auth.SigningKey // the key that signs now
	newest   string          // the kid of the key not retired, which signs once published long enough
	newestAt time.Time       // when that key was created
	switchAt time.Time       // when active gives way to newest (zero: it is newest)
	public   map[string]ed25519.PublicKey
	order    []string // kids, newest first
	loadedAt time.Time
}

var _ auth.KeySource = (*Ring)(nil)

// NewRing returns a ring; Load must run before it signs.
func NewRing(s *store.Store, sealer *Sealer, tokenTTL, maxAge time.Duration, now func() time.Time) *Ring {
	return &Ring{store: s, sealer: sealer, publish: tokenTTL + reloadEvery + time.Minute, maxAge: maxAge, now: now}
}

// Load creates the first key if there is none, rotates a key older than the
// maximum age, and reads the published keys.
func (r *Ring) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load(ctx, false)
}

// Rotate retires the active key now and starts signing with a new one.
// The retired key keeps verifying until its tokens have expired.
func (r *Ring) Rotate(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(ctx, true); err != nil {
		return "", err
	}
	return r.newest, nil
}

func (r *Ring) load(ctx context.Context, force bool) error {
	// A reload serves every request after it, not only the one that
	// happened to start it: its queries are in no request's trace.
	ctx = telemetry.Detached(ctx)
	now := r.now()
	due := func(active store.KeyRow) bool {
		return force || (r.maxAge > 0 && now.Sub(active.CreatedAt) >= r.maxAge)
	}
	// Read (and decrypt) first: only a ring that can open the current key
	// may replace it, so a wrong SIGNING_KEY_SECRET fails loudly instead of
	// quietly minting keys of its own.
	active, err := r.read(ctx, now)
	if err != nil {
		return err
	}
	if active != nil && !due(*active) {
		return nil
	}
	// rotate checks again under its lock: another replica may have
	// rotated meanwhile.
	if err := r.rotate(ctx, now, due); err != nil {
		return err
	}
	active, err = r.read(ctx, now)
	if err != nil {
		return err
	}
	if active == nil {
		return fmt.Errorf("no active signing key")
	}
	return nil
}

// rotate retires the active key and stores a new one, when there is no
// active key or when due says the active one is due, in one transaction.
// The keys' advisory lock serialises replicas and the CLI, so exactly one
// of them rotates.
func (r *Ring) rotate(ctx context.Context, now time.Time, due func(active store.KeyRow) bool) error {
	return r.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockKeys(ctx, tx); err != nil {
			return err
		}
		active, found, err := store.ActiveKey(ctx, tx)
		switch {
		case err != nil:
			return err
		case found && !due(active):
			return nil
		case found:
			if err := store.RetireKey(ctx, tx, active.Kid, now); err != nil {
				return err
			}
		}
		row, err := r.mint(now)
		if err != nil {
			return err
		}
		return store.InsertKey(ctx, tx, row)
	})
}

// read loads the published keys and returns the row of the key not retired
// (nil if there is none yet). That key signs once it has been published
// for auth.PublishLead; until then the key it replaced goes on signing, so
// no verifier meets the new kid before it may fetch it.
func (r *Ring) read(ctx context.Context, now time.Time) (*store.KeyRow, error) {
	rows, err := r.store.PublishedKeys(ctx, now.Add(-r.publish))
	if err != nil {
		return nil, err
	}
	public := map[string]ed25519.PublicKey{}
	var order []string
	var newest, replaced *store.KeyRow
	for i, row := range rows {
		public[row.Kid] = ed25519.PublicKey(row.PublicKey)
		order = append(order, row.Kid)
		if row.RetiredAt == nil {
			newest = &rows[i]
		}
	}
	var active auth.SigningKey
	var switchAt time.Time
	if newest != nil {
		for i, row := range rows {
			if row.RetiredAt != nil && row.RetiredAt.Equal(newest.CreatedAt) {
				replaced = &rows[i]
			}
		}
		signer := newest
		if replaced != nil && now.Before(newest.CreatedAt.Add(auth.PublishLead)) {
			signer, switchAt = replaced, newest.CreatedAt.Add(auth.PublishLead)
		}
		seed, err := r.sealer.Open(signer.PrivateKey, signer.Kid)
		if err != nil {
			return nil, err
		}
		active = auth.SigningKey{ID: signer.Kid, Private: ed25519.NewKeyFromSeed(seed)}
		r.newest, r.newestAt = newest.Kid, newest.CreatedAt
	}
	r.active, r.switchAt, r.public, r.order, r.loadedAt = active, switchAt, public, order, now
	return newest, nil
}

func (r *Ring) mint(now time.Time) (store.KeyRow, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return store.KeyRow{}, fmt.Errorf("generate signing key: %w", err)
	}
	kid := auth.KeyID(pub)
	sealed, err := r.sealer.Seal(priv.Seed(), kid)
	if err != nil {
		return store.KeyRow{}, err
	}
	return store.KeyRow{Kid: kid, PublicKey: pub, PrivateKey: sealed, CreatedAt: now}, nil
}

// Signing returns the key to sign with, reloading it when stale so a
// rotation elsewhere is picked up, rotating it as soon as it is due by age,
// and switching to a new key once it has been published for
// auth.PublishLead.
func (r *Ring) Signing(ctx context.Context) (auth.SigningKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	aged := r.maxAge > 0 && now.Sub(r.newestAt) >= r.maxAge
	switching := !r.switchAt.IsZero() && !now.Before(r.switchAt)
	if now.Sub(r.loadedAt) >= reloadEvery || aged || switching {
		if err := r.load(ctx, false); err != nil {
			return auth.SigningKey{}, err
		}
	}
	return r.active, nil
}

// PublicKey implements auth.KeySource.
func (r *Ring) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	since := r.now().Sub(r.loadedAt)
	if key, ok := r.public[kid]; ok && since < reloadEvery {
		return key, nil
	}
	if since >= missReload {
		if err := r.load(ctx, false); err != nil {
			return nil, err
		}
	}
	if key, ok := r.public[kid]; ok {
		return key, nil
	}
	return nil, auth.ErrUnknownKey
}

// JWKS returns the published public keys, newest first. They are at most
// missReload old: a key another replica (or the CLI) created signs there
// after auth.PublishLead, and every replica must serve it before that, not
// only at its next periodic reload.
func (r *Ring) JWKS(ctx context.Context) (auth.JWKS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.now().Sub(r.loadedAt) >= missReload {
		if err := r.load(ctx, false); err != nil {
			return auth.JWKS{}, err
		}
	}
	set := auth.JWKS{Keys: []auth.JWK{}}
	for _, kid := range r.order {
		set.Keys = append(set.Keys, auth.PublicJWK(kid, r.public[kid]))
	}
	return set, nil
}
