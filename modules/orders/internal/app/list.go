package app

import (
	"context"
	"time"

	"mitosis/modules/orders"
	"mitosis/platform/ids"
	"mitosis/platform/page"
	"mitosis/platform/problem"
)

// ListOrders returns a page of the customer's (or every customer's) orders,
// newest first (keyset pagination, platform/page).
func (s *Service) ListOrders(ctx context.Context, in orders.ListOrdersRequest) (orders.OrderPage, error) {
	var bad problem.Fields
	customer := in.CustomerID
	if in.AllCustomers {
		customer = ""
	} else if !ids.Valid(customer) {
		bad.Add("customer_id", "must be a UUID")
	}
	keyset := page.Parse(&bad, in.Limit, in.Cursor)
	if err := bad.Err(); err != nil {
		return orders.OrderPage{}, err
	}
	items, err := s.store.List(ctx, customer, keyset)
	if err != nil {
		return orders.OrderPage{}, err
	}
	out := orders.OrderPage{}
	out.Items, out.NextCursor = page.Trim(keyset, items, func(o orders.Order) (time.Time, string) { return o.CreatedAt, o.ID })
	return out, nil
}
