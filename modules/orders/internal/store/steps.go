package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"mitosis/modules/orders"
)

// StepRecord is one entry of an order's saga history.
type StepRecord struct {
	Step, Outcome, Detail string
}

// AppendStep adds rec to the order's history. With overwrite, it replaces
// instead the last entry if that one is of the same step and outcome, and
// appends only when it is not.
func AppendStep(ctx context.Context, db bun.IDB, orderID string, rec StepRecord, overwrite bool) error {
	if overwrite {
		res, err := db.NewRaw(`UPDATE saga_steps SET detail = ?, at = now()
			WHERE order_id = ? AND step = ? AND outcome = ?
			AND seq = (SELECT max(seq) FROM saga_steps WHERE order_id = ?)`,
			rec.Detail, orderID, rec.Step, rec.Outcome, orderID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("overwrite saga step: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
	}
	_, err := db.NewRaw(`INSERT INTO saga_steps (order_id, seq, step, outcome, detail)
		SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ? FROM saga_steps WHERE order_id = ?`,
		orderID, rec.Step, rec.Outcome, rec.Detail, orderID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("append saga step: %w", err)
	}
	return nil
}

// Steps returns an order's saga history, oldest first.
func (s *Store) Steps(ctx context.Context, orderID string) ([]orders.HistoryStep, error) {
	steps := []orders.HistoryStep{}
	err := s.db.NewRaw("SELECT seq, step, outcome, detail, at FROM saga_steps WHERE order_id = ? ORDER BY seq", orderID).
		Scan(ctx, &steps)
	if err != nil {
		return nil, fmt.Errorf("read saga history: %w", err)
	}
	for i := range steps {
		steps[i].At = steps[i].At.UTC()
	}
	return steps, nil
}
