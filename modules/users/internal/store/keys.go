package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// KeyRow is one signing key; PrivateKey is sealed (see the migration).
type KeyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	Kid        string     `bun:"kid,pk"`
	PublicKey  []byte     `bun:"public_key"`
	PrivateKey []byte     `bun:"private_key"`
	CreatedAt  time.Time  `bun:"created_at"`
	RetiredAt  *time.Time `bun:"retired_at"`
}

// PublishedKeys returns the active key and those retired after since,
// newest first.
func (s *Store) PublishedKeys(ctx context.Context, since time.Time) ([]KeyRow, error) {
	var rows []KeyRow
	err := s.db.NewSelect().Model(&rows).
		Where("retired_at IS NULL OR retired_at > ?", since).
		Order("created_at DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select signing keys: %w", err)
	}
	return rows, nil
}

// LockKeys takes the signing keys' advisory lock until the end of the
// transaction db is: replicas and the CLI rotate one at a time.
func LockKeys(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('users.signing_keys'))"); err != nil {
		return fmt.Errorf("lock signing keys: %w", err)
	}
	return nil
}

// ActiveKey returns the key not retired; false if there is none.
func ActiveKey(ctx context.Context, db bun.IDB) (KeyRow, bool, error) {
	var active KeyRow
	err := db.NewSelect().Model(&active).Where("retired_at IS NULL").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return KeyRow{}, false, nil
	}
	if err != nil {
		return KeyRow{}, false, fmt.Errorf("select active key: %w", err)
	}
	return active, true, nil
}

// RetireKey retires the key kid as of at.
func RetireKey(ctx context.Context, db bun.IDB, kid string, at time.Time) error {
	if _, err := db.NewUpdate().Model((*KeyRow)(nil)).Set("retired_at = ?", at).Where("kid = ?", kid).Exec(ctx); err != nil {
		return fmt.Errorf("retire key: %w", err)
	}
	return nil
}

// InsertKey stores a new signing key.
func InsertKey(ctx context.Context, db bun.IDB, row KeyRow) error {
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert key: %w", err)
	}
	return nil
}
