package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

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

// AppendSteps adds recs, in their order, to the order's history in one
// statement; none is nothing to do.
func AppendSteps(ctx context.Context, db bun.IDB, orderID string, recs ...StepRecord) error {
	if len(recs) == 0 {
		return nil
	}
	steps, outcomes, details := stepColumns(recs)
	_, err := db.NewRaw(`INSERT INTO saga_steps (order_id, seq, step, outcome, detail)
		SELECT ?, last.seq + r.n, r.step, r.outcome, r.detail
		FROM (SELECT coalesce(max(seq), 0) AS seq FROM saga_steps WHERE order_id = ?) AS last,
			unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS r (step, outcome, detail, n)`,
		orderID, orderID, pgdialect.Array(steps), pgdialect.Array(outcomes), pgdialect.Array(details)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("append saga steps: %w", err)
	}
	return nil
}

// stepColumns is recs as one array per column, for unnest.
func stepColumns(recs []StepRecord) (steps, outcomes, details []string) {
	steps, outcomes, details = make([]string, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		steps[i], outcomes[i], details[i] = r.Step, r.Outcome, r.Detail
	}
	return steps, outcomes, details
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
