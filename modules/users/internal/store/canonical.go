package store

import (
	"context"
	"fmt"
	"time"

	"mitosis/modules/users"
	"mitosis/platform/db"
)

// Unfilled is an account whose canonical email is not stored yet.
type Unfilled struct {
	ID, Email string
	CreatedAt time.Time
}

// WithoutCanonical returns up to limit accounts without a canonical email
// created after (at, id), oldest first; a zero at starts at the oldest.
func (s *Store) WithoutCanonical(ctx context.Context, at time.Time, id string, limit int) ([]Unfilled, error) {
	var rows []userRow
	q := s.db.NewSelect().Model(&rows).Column("id", "email", "created_at").
		Where("email_canonical IS NULL").OrderExpr("created_at, id").Limit(int64(limit))
	if !at.IsZero() {
		q = q.Where("(created_at, id) > (?, ?)", at, id)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users without canonical email: %w", err)
	}
	out := make([]Unfilled, 0, len(rows))
	for _, r := range rows {
		out = append(out, Unfilled{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// SetCanonical stores the canonical email of an account that has none;
// users.ErrEmailTaken if another account holds it.
func (s *Store) SetCanonical(ctx context.Context, id, canonical string) error {
	_, err := s.db.NewUpdate().Model((*userRow)(nil)).Set("email_canonical = ?", canonical).
		Where("id = ? AND email_canonical IS NULL", id).Exec(ctx)
	if db.IsUniqueViolation(err) {
		return users.ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("set canonical email: %w", err)
	}
	return nil
}
