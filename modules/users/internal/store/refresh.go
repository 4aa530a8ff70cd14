package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RefreshRow is one refresh token, stored by its hash.
type RefreshRow struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	TokenHash []byte     `bun:"token_hash,pk"`
	FamilyID  string     `bun:"family_id"`
	UserID    string     `bun:"user_id"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

// Outcomes of Spend.
var (
	ErrRefreshInvalid = errors.New("refresh token unknown, expired or revoked")
	ErrRefreshReused  = errors.New("refresh token reused: family revoked")
)

// InsertRefresh stores a new refresh token.
func (s *Store) InsertRefresh(ctx context.Context, r RefreshRow) error {
	if _, err := s.db.NewInsert().Model(&r).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// Spend marks the token with hash used and stores next (same family) in
// one transaction, returning the spent row. A token already used revokes
// its whole family (committed) and gives ErrRefreshReused; an unknown,
// expired or revoked one gives ErrRefreshInvalid. The row lock makes two
// concurrent uses of one token a reuse, never two successors.
func (s *Store) Spend(ctx context.Context, hash []byte, now time.Time, next func(RefreshRow) RefreshRow) (RefreshRow, error) {
	var spent RefreshRow
	var outcome error
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&spent).Where("token_hash = ?", hash).For("UPDATE").Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = ErrRefreshInvalid
			return nil
		case err != nil:
			return fmt.Errorf("select refresh token: %w", err)
		case spent.RevokedAt != nil || !now.Before(spent.ExpiresAt):
			outcome = ErrRefreshInvalid
			return nil
		case spent.UsedAt != nil:
			outcome = ErrRefreshReused
			return revokeFamily(ctx, tx, spent.FamilyID, now)
		}
		if _, err := tx.NewUpdate().Model((*RefreshRow)(nil)).Set("used_at = ?", now).
			Where("token_hash = ?", hash).Exec(ctx); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		successor := next(spent)
		if _, err := tx.NewInsert().Model(&successor).Exec(ctx); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return RefreshRow{}, err
	}
	return spent, outcome
}

// RevokeFamilyOf revokes every token of the family of the token with hash;
// an unknown hash does nothing.
func (s *Store) RevokeFamilyOf(ctx context.Context, hash []byte, now time.Time) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var row RefreshRow
		err := tx.NewSelect().Model(&row).Where("token_hash = ?", hash).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("select refresh token: %w", err)
		}
		return revokeFamily(ctx, tx, row.FamilyID, now)
	})
}

func revokeFamily(ctx context.Context, tx bun.Tx, family string, now time.Time) error {
	_, err := tx.NewUpdate().Model((*RefreshRow)(nil)).Set("revoked_at = ?", now).
		Where("family_id = ? AND revoked_at IS NULL", family).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}
