package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/inventory"
	"mitosis/platform/db"
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

const insertReservation = db.Statement(`INSERT INTO reservations (order_id, status) VALUES ($1, $2)
	ON CONFLICT (order_id) DO NOTHING`)

// InsertReservation stores a reservation for the order in status; false
// when the order already has one (the primary key decides: a second insert
// at once waits for the first, then finds it).
func InsertReservation(ctx context.Context, tx bun.Tx, orderID, status string) (bool, error) {
	res, err := insertReservation.Exec(ctx, tx, orderID, status)
	if err != nil {
		return false, fmt.Errorf("insert reservation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const insertLines = db.Statement(`INSERT INTO reservation_lines (order_id, sku, quantity)
	SELECT $1::text, sku, quantity FROM unnest($2::text[], $3::bigint[]) AS l (sku, quantity)`)

// InsertLines stores what the order's reservation holds.
func InsertLines(ctx context.Context, tx bun.Tx, orderID string, items []inventory.Item) error {
	skus, quantities := columns(items)
	if _, err := insertLines.Exec(ctx, tx, orderID, skus, quantities); err != nil {
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

const commitHeld = db.Statement(`WITH marked AS (
		UPDATE reservations SET status = $1, updated_at = now()
		FROM (SELECT order_id, status FROM reservations WHERE order_id = $2 FOR UPDATE) old
		WHERE reservations.order_id = old.order_id AND old.status = $3
		RETURNING reservations.order_id),
	moved AS (
		UPDATE stock SET reserved = stock.reserved - l.quantity, sold = stock.sold + l.quantity
		FROM (SELECT l.sku, l.quantity FROM marked m JOIN reservation_lines l ON l.order_id = m.order_id
			JOIN stock s ON s.sku = l.sku ORDER BY l.sku FOR NO KEY UPDATE OF s) l
		WHERE stock.sku = l.sku
		RETURNING l.sku, l.quantity)
	SELECT EXISTS (SELECT 1 FROM marked) AS marked, moved.sku, moved.quantity
	FROM (VALUES (1)) AS one (x) LEFT JOIN moved ON true
	ORDER BY moved.sku`)

// CommitHeld commits the order's reservation when it is held (reserved):
// the reservation marked committed and every line's stock moved from
// reserved to sold, in one statement, which needs no transaction of its
// own. It returns the lines by SKU, and false, with nothing written, when
// the reservation is not held (none, committed or released: the caller
// reads it under lock).
func CommitHeld(ctx context.Context, idb bun.IDB, orderID string) ([]inventory.Item, bool, error) {
	var rows []struct {
		Marked   bool   `bun:"marked"`
		SKU      string `bun:"sku"`
		Quantity int64  `bun:"quantity"`
	}
	err := commitHeld.Scan(ctx, idb, &rows, inventory.StatusCommitted, orderID, inventory.StatusReserved)
	if err != nil {
		return nil, false, fmt.Errorf("commit reservation: %w", err)
	}
	if len(rows) == 0 || !rows[0].Marked {
		return nil, false, nil
	}
	items := make([]inventory.Item, 0, len(rows))
	for _, r := range rows {
		if r.SKU != "" {
			items = append(items, inventory.Item{SKU: r.SKU, Quantity: r.Quantity})
		}
	}
	return items, true, nil
}
