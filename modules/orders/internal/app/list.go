package app

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"mitosis/modules/orders"
	"mitosis/modules/orders/internal/store"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

const (
	defaultLimit = 20
	maxLimit     = 100
)

// ListOrders returns a page of the customer's (or every customer's) orders,
// newest first. The
// cursor is the position of the last order returned (keyset pagination), so
// pages stay stable while new orders arrive.
func (s *Service) ListOrders(ctx context.Context, in orders.ListOrdersRequest) (orders.OrderPage, error) {
	var bad problem.Fields
	customer := in.CustomerID
	if in.AllCustomers {
		customer = ""
	} else if !ids.Valid(customer) {
		bad.Add("customer_id", "must be a UUID")
	}
	limit := in.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	if limit < 1 || limit > maxLimit {
		bad.Add("limit", "must be between 1 and 100")
	}
	page := store.Page{Limit: limit + 1}
	if in.Cursor != "" {
		before, id, ok := decodeCursor(in.Cursor)
		if !ok {
			bad.Add("cursor", "is not a cursor from a previous page")
		}
		page.Before, page.BeforeID = before, id
	}
	if err := bad.Err(); err != nil {
		return orders.OrderPage{}, err
	}
	items, err := s.store.List(ctx, customer, page)
	if err != nil {
		return orders.OrderPage{}, err
	}
	out := orders.OrderPage{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return out, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || !ids.Valid(id) {
		return time.Time{}, "", false
	}
	return at, id, true
}
