// Package inventorytest is the contract suite of inventory.Service: every
// implementation (local, or the HTTP client) must pass it unchanged.
package inventorytest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/inventory"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

type suite struct {
	svc inventory.Service
	ctx context.Context
}

// Run checks svc against the contract.
func Run(t *testing.T, svc inventory.Service) {
	s := &suite{svc: svc, ctx: context.Background()}
	t.Run("create returns the item with its id", s.testCreate)
	t.Run("a name taken is item_exists", s.testExists)
	t.Run("invalid input names the field", s.testValidation)
}

func (s *suite) testCreate(t *testing.T) {
	name := "item " + uuid.NewString()
	item, err := s.svc.CreateItem(s.ctx, inventory.CreateItemRequest{Name: name})
	require.NoError(t, err)
	assert.True(t, ids.Valid(item.ID), "id %q", item.ID)
	assert.Equal(t, name, item.Name)
	assert.WithinDuration(t, time.Now(), item.CreatedAt, time.Minute)
}

func (s *suite) testExists(t *testing.T) {
	in := inventory.CreateItemRequest{Name: "twice " + uuid.NewString()}
	first, err := s.svc.CreateItem(s.ctx, in)
	require.NoError(t, err)
	_, err = s.svc.CreateItem(s.ctx, in)
	require.ErrorIs(t, err, inventory.ErrItemExists)
	assert.Equal(t, "inventory.item_exists", problem.CodeOf(err).Code)
	again, err := s.svc.CreateItem(s.ctx, inventory.CreateItemRequest{Name: in.Name + " again"})
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, again.ID)
}

func (s *suite) testValidation(t *testing.T) {
	for name, bad := range map[string]string{
		"empty":    "",
		"too long": strings.Repeat("é", inventory.MaxNameLength+1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.svc.CreateItem(s.ctx, inventory.CreateItemRequest{Name: bad})
			require.ErrorIs(t, err, problem.ErrValidation)
			var ve *problem.ValidationError
			require.True(t, errors.As(err, &ve), "%T is not a *problem.ValidationError", err)
			assert.Equal(t, []string{"name"}, ve.FieldNames())
		})
	}
	longest := uuid.NewString() + strings.Repeat("é", inventory.MaxNameLength-36)
	_, err := s.svc.CreateItem(s.ctx, inventory.CreateItemRequest{Name: longest})
	require.NoError(t, err, "the longest name is accepted")
}
