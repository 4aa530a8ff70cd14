package store

import (
	"context"
	"fmt"
	"time"
)

// SagaCount is how many sagas are in one state: the step to run next, or,
// once done, the order's outcome.
type SagaCount struct {
	State string `bun:"state" json:"state"`
	Count int    `bun:"n" json:"count"`
}

// SagaView is one saga still running, with its steps so far.
type SagaView struct {
	OrderID       string     `bun:"order_id" json:"order_id"`
	Step          string     `bun:"step" json:"step"`
	Compensating  bool       `bun:"-" json:"compensating"` // the domain decides (app)
	Attempts      int        `bun:"attempts" json:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at" json:"next_attempt_at"`
	DeadlineAt    time.Time  `bun:"deadline_at" json:"deadline_at"`
	FailureReason *string    `bun:"failure_reason" json:"failure_reason"`
	Steps         []StepView `bun:"-" json:"steps"`
}

// StepView is one step's outcome.
type StepView struct {
	Seq     int       `bun:"seq" json:"seq"`
	Step    string    `bun:"step" json:"step"`
	Outcome string    `bun:"outcome" json:"outcome"`
	Detail  string    `bun:"detail" json:"detail"`
	At      time.Time `bun:"at" json:"at"`
}

// SagaOverview counts the sagas by state and lists up to limit of those
// still running (in flight or compensating), oldest first, with their steps.
func (s *Store) SagaOverview(ctx context.Context, limit int) ([]SagaCount, []SagaView, error) {
	var counts []SagaCount
	err := s.db.NewRaw(`SELECT CASE WHEN s.step = ? THEN o.status ELSE s.step END AS state, count(*) AS n
		FROM sagas s JOIN orders o ON o.id = s.order_id GROUP BY 1 ORDER BY 1`, StepDone).Scan(ctx, &counts)
	if err != nil {
		return nil, nil, fmt.Errorf("saga counts: %w", err)
	}
	var running []SagaView
	err = s.db.NewRaw(`SELECT order_id, step, attempts, next_attempt_at, deadline_at, failure_reason
		FROM sagas WHERE step <> ? ORDER BY updated_at LIMIT ?`, StepDone, limit).Scan(ctx, &running)
	if err != nil {
		return nil, nil, fmt.Errorf("running sagas: %w", err)
	}
	for i := range running {
		running[i].Steps = []StepView{}
		err := s.db.NewRaw(`SELECT seq, step, outcome, detail, at FROM saga_steps WHERE order_id = ? ORDER BY seq`,
			running[i].OrderID).Scan(ctx, &running[i].Steps)
		if err != nil {
			return nil, nil, fmt.Errorf("saga steps: %w", err)
		}
	}
	if counts == nil {
		counts = []SagaCount{}
	}
	if running == nil {
		running = []SagaView{}
	}
	return counts, running, nil
}
