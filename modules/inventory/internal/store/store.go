// Package store reads and writes the inventory schema: bun rows beside their
// converters, and the queries the domain asks for. It persists what it is
// told; the domain (internal/app) decides.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
)

// Store reads and writes the inventory schema.
type Store struct{ db *bun.DB }

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// InTx runs fn in one transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, func(_ context.Context, tx bun.Tx) error { return fn(tx) })
}

// itemRow is a row of items.
type itemRow struct {
	bun.BaseModel `bun:"table:items"`

	ID        string    `bun:"id,pk,type:uuid"`
	Name      string    `bun:"name"`
	CreatedAt time.Time `bun:"created_at"`
}

func toRow(it inventory.Item) itemRow {
	return itemRow{ID: it.ID, Name: it.Name, CreatedAt: it.CreatedAt}
}

// InsertItem stores the item; a name another item has is
// inventory.ErrItemExists (the unique constraint decides, so two at once
// cannot both win).
func InsertItem(ctx context.Context, db bun.IDB, it inventory.Item) error {
	row := toRow(it)
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return inventory.ErrItemExists
		}
		return fmt.Errorf("insert item: %w", err)
	}
	return nil
}

// isUniqueViolation reports a duplicate key.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
