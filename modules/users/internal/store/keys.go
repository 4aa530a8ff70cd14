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

// Rotate retires the active key and stores the one mint makes, when there
// is no active key or when due says the active one is due. An advisory lock
// serialises replicas and the CLI, so exactly one of them rotates.
func (s *Store) Rotate(ctx context.Context, now time.Time, due func(active KeyRow) bool, mint func() (KeyRow, error)) (bool, error) {
	rotated := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('users.signing_keys'))"); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		var active KeyRow
		err := tx.NewSelect().Model(&active).Where("retired_at IS NULL").Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("select active key: %w", err)
		case !due(active):
			return nil
		default:
			if _, err := tx.NewUpdate().Model((*KeyRow)(nil)).Set("retired_at = ?", now).
				Where("kid = ?", active.Kid).Exec(ctx); err != nil {
				return fmt.Errorf("retire key: %w", err)
			}
		}
		row, err := mint()
		if err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert key: %w", err)
		}
		rotated = true
		return nil
	})
	return rotated, err
}
