// Package app is the inventory domain: what each method decides, and what it
// asks the store to persist.
package app

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
	"mitosis/modules/inventory/internal/store"
	"mitosis/platform/problem"
)

// Service is the local implementation of inventory.Service.
type Service struct {
	store *store.Store
}

var _ inventory.Service = (*Service)(nil)

// New returns the inventory service.
func New(s *store.Store) *Service {
	return &Service{store: s}
}

// CreateItem checks the name and stores the item; a name taken is
// inventory.ErrItemExists.
func (s *Service) CreateItem(ctx context.Context, in inventory.CreateItemRequest) (inventory.Item, error) {
	var bad problem.Fields
	switch {
	case in.Name == "":
		bad.Add("name", "is required")
	case utf8.RuneCountInString(in.Name) > inventory.MaxNameLength:
		bad.Add("name", "must be at most 200 characters")
	case strings.ContainsRune(in.Name, 0):
		// PostgreSQL's text cannot hold it: refused here, not by the database.
		bad.Add("name", "must not contain NUL")
	}
	if err := bad.Err(); err != nil {
		return inventory.Item{}, err
	}
	// The database keeps microseconds: the answer says what is stored.
	item := inventory.Item{ID: uuid.NewString(), Name: in.Name, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	err := s.store.InTx(ctx, func(tx bun.Tx) error {
		if err := store.InsertItem(ctx, tx, item); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return inventory.Item{}, err
	}
	return item, nil
}
