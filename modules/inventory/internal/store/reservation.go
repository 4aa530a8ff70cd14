package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
)

// reservationRow is a row of reservations.
type reservationRow struct {
	bun.BaseModel `bun:"table:reservations"`

	OrderID   string    `bun:"order_id,pk"`
	Status    string    `bun:"status"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:now()"`
}

// lineRow is a row of reservation_lines.
type lineRow struct {
	bun.BaseModel `bun:"table:reservation_lines"`

	OrderID  string `bun:"order_id,pk"`
	SKU      string `bun:"sku,pk"`
	Quantity int64  `bun:"quantity"`
}

// InsertReservation stores a reservation for the order in status; false
// when the order already has one (the primary key decides: a second insert
// at once waits for the first, then finds it).
func InsertReservation(ctx context.Context, tx bun.Tx, orderID, status string) (bool, error) {
	row := reservationRow{OrderID: orderID, Status: status}
	res, err := tx.NewInsert().Model(&row).On("CONFLICT (order_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("insert reservation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertLines stores what the order's reservation holds.
func InsertLines(ctx context.Context, tx bun.Tx, orderID string, items []inventory.Item) error {
	lines := make([]lineRow, 0, len(items))
	for _, it := range items {
		lines = append(lines, lineRow{OrderID: orderID, SKU: it.SKU, Quantity: it.Quantity})
	}
	if _, err := tx.NewInsert().Model(&lines).Exec(ctx); err != nil {
		return fmt.Errorf("insert reservation lines: %w", err)
	}
	return nil
}

// LockReservation returns the order's reservation, locked until the
// transaction ends; false when there is none.
func LockReservation(ctx context.Context, tx bun.Tx, orderID string) (inventory.Reservation, bool, error) {
	var row reservationRow
	err := tx.NewSelect().Model(&row).Where("order_id = ?", orderID).For("UPDATE").Scan(ctx)
	if isNoRows(err) {
		return inventory.Reservation{}, false, nil
	}
	if err != nil {
		return inventory.Reservation{}, false, fmt.Errorf("lock reservation: %w", err)
	}
	var lines []lineRow
	if err := tx.NewSelect().Model(&lines).Where("order_id = ?", orderID).Order("sku").Scan(ctx); err != nil {
		return inventory.Reservation{}, false, fmt.Errorf("reservation lines: %w", err)
	}
	r := inventory.Reservation{OrderID: row.OrderID, Status: row.Status, Items: make([]inventory.Item, 0, len(lines))}
	for _, l := range lines {
		r.Items = append(r.Items, inventory.Item{SKU: l.SKU, Quantity: l.Quantity})
	}
	return r, true, nil
}

// MarkReservation moves the order's reservation to status when it is in
// one of from, and returns the status it was in; false, with nothing
// written, when it is not (or there is none).
func MarkReservation(ctx context.Context, tx bun.Tx, orderID, status string, from ...string) (string, bool, error) {
	var prev []string
	err := tx.NewRaw(`UPDATE reservations SET status = ?, updated_at = now()
		FROM (SELECT order_id, status FROM reservations WHERE order_id = ? FOR UPDATE) old
		WHERE reservations.order_id = old.order_id AND old.status IN (?)
		RETURNING old.status`, status, orderID, bun.In(from)).Scan(ctx, &prev)
	if err != nil {
		return "", false, fmt.Errorf("mark reservation %s: %w", status, err)
	}
	if len(prev) == 0 {
		return "", false, nil
	}
	return prev[0], true, nil
}
