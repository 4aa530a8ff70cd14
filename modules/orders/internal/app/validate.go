package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"mitosis/modules/orders"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

var errTotalTooLarge = problem.Invalid("items", "order total exceeds the payment limit")

func validatePlacement(in orders.PlaceOrderRequest) error {
	var bad problem.Fields
	if !ids.Valid(in.CustomerID) {
		bad.Add("customer_id", "must be a UUID")
	}
	if len(in.IdempotencyKey) > 200 {
		bad.Add("idempotency_key", "must be at most 200 characters")
	}
	switch {
	case len(in.Items) == 0:
		bad.Add("items", "must hold at least one item")
	case len(in.Items) > orders.MaxItems:
		// Past the limit the items are not looked at one by one: 10,000
		// bad items would otherwise be 20,000 errors.
		bad.Add("items", fmt.Sprintf("must hold at most %d items", orders.MaxItems))
		return bad.Err()
	}
	seen := map[string]bool{}
	for i, it := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		switch {
		case strings.TrimSpace(it.SKU) == "" || len(it.SKU) > 64:
			bad.Add(field+".sku", "must be 1 to 64 characters")
		case seen[it.SKU]:
			bad.Add(field+".sku", "appears more than once")
		}
		seen[it.SKU] = true
		if it.Quantity < 1 || it.Quantity > orders.MaxQuantity {
			bad.Add(field+".quantity", fmt.Sprintf("must be between 1 and %d", orders.MaxQuantity))
		}
	}
	return bad.Err()
}

func unknownSKUs(items []orders.Item, known map[string]orders.Product) error {
	var bad problem.Fields
	for i, it := range items {
		if _, ok := known[it.SKU]; !ok {
			bad.Add(fmt.Sprintf("items[%d].sku", i), "is not a known product")
		}
	}
	return bad.Err()
}

// requestHash fingerprints the items, so a reused idempotency key with a
// different body is detected.
func requestHash(items []orders.Item) string {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%d\x00", it.SKU, it.Quantity)
	}
	return hex.EncodeToString(h.Sum(nil))
}
