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

// InsertRefresh stores a new refresh token.
func InsertRefresh(ctx context.Context, db bun.IDB, r RefreshRow) error {
	if _, err := db.NewInsert().Model(&r).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// LockRefresh reads the refresh token with hash and locks its row until
// the end of the transaction db is; false if there is none.
func LockRefresh(ctx context.Context, db bun.IDB, hash []byte) (RefreshRow, bool, error) {
	var row RefreshRow
	err := db.NewSelect().Model(&row).Where("token_hash = ?", hash).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return RefreshRow{}, false, nil
	}
	if err != nil {
		return RefreshRow{}, false, fmt.Errorf("select refresh token: %w", err)
	}
	return row, true, nil
}

// MarkRefreshUsed records that the token with hash was spent at now.
func MarkRefreshUsed(ctx context.Context, db bun.IDB, hash []byte, now time.Time) error {
	if _, err := db.NewUpdate().Model((*RefreshRow)(nil)).Set("used_at = ?", now).
		Where("token_hash = ?", hash).Exec(ctx); err != nil {
		return fmt.Errorf("spend refresh token: %w", err)
	}
	return nil
}

// RevokeFamily revokes, as of now, every token of family not revoked yet.
func RevokeFamily(ctx context.Context, db bun.IDB, family string, now time.Time) error {
	_, err := db.NewUpdate().Model((*RefreshRow)(nil)).Set("revoked_at = ?", now).
		Where("family_id = ? AND revoked_at IS NULL", family).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// RevokeFamilyOf revokes, as of now, every token of the family of the
// token with hash, in one statement; an unknown hash revokes nothing.
func (s *Store) RevokeFamilyOf(ctx context.Context, hash []byte, now time.Time) error {
	_, err := s.db.NewUpdate().Model((*RefreshRow)(nil)).Set("revoked_at = ?", now).
		Where("family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?) AND revoked_at IS NULL", hash).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}
