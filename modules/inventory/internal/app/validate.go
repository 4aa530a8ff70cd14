package app

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"mitosis/modules/inventory"
	"mitosis/platform/problem"
)

// checkText adds field's error when v is empty, too long, or holds a NUL
// (PostgreSQL's text cannot: refused here, not by the database).
func checkText(bad *problem.Fields, field, v string, maxLen int) {
	switch {
	case v == "":
		bad.Add(field, "is required")
	case utf8.RuneCountInString(v) > maxLen:
		bad.Add(field, fmt.Sprintf("must be at most %d characters", maxLen))
	case strings.ContainsRune(v, 0) || !utf8.ValidString(v):
		bad.Add(field, "must be valid text without NUL")
	}
}

func checkQuantity(bad *problem.Fields, field string, q int64) {
	if q < 1 || q > inventory.MaxQuantity {
		bad.Add(field, fmt.Sprintf("must be between 1 and %d", inventory.MaxQuantity))
	}
}

func validOrderID(id string) error {
	var bad problem.Fields
	checkText(&bad, "order_id", id, inventory.MaxOrderIDLength)
	return bad.Err()
}

func validStockRequest(in inventory.StockRequest) error {
	var bad problem.Fields
	if len(in.SKUs) > inventory.MaxSKUsPerQuery {
		bad.Add("skus", fmt.Sprintf("must name at most %d", inventory.MaxSKUsPerQuery))
		return bad.Err()
	}
	for i, sku := range in.SKUs {
		checkText(&bad, fmt.Sprintf("skus[%d]", i), sku, inventory.MaxSKULength)
	}
	return bad.Err()
}

func validRestock(in inventory.RestockRequest) error {
	var bad problem.Fields
	checkText(&bad, "sku", in.SKU, inventory.MaxSKULength)
	checkQuantity(&bad, "quantity", in.Quantity)
	if in.IdempotencyKey != "" {
		checkText(&bad, "idempotency_key", in.IdempotencyKey, inventory.MaxKeyLength)
	}
	return bad.Err()
}

// validReserve checks the request and returns its items one per SKU
// (repeats summed), sorted by SKU.
func validReserve(in inventory.ReserveRequest) ([]inventory.Item, error) {
	var bad problem.Fields
	checkText(&bad, "order_id", in.OrderID, inventory.MaxOrderIDLength)
	switch {
	case len(in.Items) == 0:
		bad.Add("items", "must not be empty")
	case len(in.Items) > inventory.MaxItems:
		bad.Add("items", fmt.Sprintf("must hold at most %d", inventory.MaxItems))
	}
	sum := map[string]int64{}
	for i, it := range in.Items {
		checkText(&bad, fmt.Sprintf("items[%d].sku", i), it.SKU, inventory.MaxSKULength)
		checkQuantity(&bad, fmt.Sprintf("items[%d].quantity", i), it.Quantity)
		sum[it.SKU] += it.Quantity
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	items := make([]inventory.Item, 0, len(sum))
	for sku, q := range sum {
		items = append(items, inventory.Item{SKU: sku, Quantity: q})
	}
	slices.SortFunc(items, func(a, b inventory.Item) int { return strings.Compare(a.SKU, b.SKU) })
	return items, nil
}
