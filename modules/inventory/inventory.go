// Package inventory is the contract of the inventory module: what other
// modules and the HTTP API may ask of it. `app new module` wrote it with one
// example method (a request, a response, a coded error); make it the module's own.
package inventory

import (
	"context"
	"net/http"
	"time"

	"mitosis/platform/problem"
)

// Name is the module's name: its spec, schema, routes and codes use it.
const Name = "inventory"

// Service is what other modules and the HTTP API may ask of inventory.
type Service interface {
	// CreateItem stores a new item; ErrItemExists if one has its name.
	CreateItem(ctx context.Context, in CreateItemRequest) (Item, error)
}

// CreateItemRequest is the input of CreateItem.
type CreateItemRequest struct {
	Name string `json:"name"`
}

// Item is one stored item.
type Item struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxNameLength bounds an item's name, in characters.
const MaxNameLength = 200

// ErrItemExists means an item already has the name.
var ErrItemExists = problem.New("inventory.item_exists", http.StatusConflict, "Item exists")

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrItemExists}
