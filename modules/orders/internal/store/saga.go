package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/platform/db"
)

// StepDone is the step stored for a finished saga: the schema's partial
// index of due sagas, and every claim, leave such a saga out.
const StepDone = "done"

// ErrLeaseLost means the saga is not held by the writer at the step it
// expected (another runner holds it now): nothing was written.
var ErrLeaseLost = errors.New("saga lease lost")

// SagaRow is an order's saga as stored, with the order's customer and
// total, as a claim returns it.
type SagaRow struct {
	OrderID       string    `bun:"order_id"`
	CustomerID    string    `bun:"customer_id"`
	TotalCents    int64     `bun:"total_cents"`
	Step          string    `bun:"step"`
	Attempts      int       `bun:"attempts"`
	DeadlineAt    time.Time `bun:"deadline_at"`
	PaymentID     *string   `bun:"payment_id"`
	FailureReason *string   `bun:"failure_reason"`
	Owner         string    `bun:"lease_owner"`
	TraceParent   string    `bun:"trace_parent"`
}

// NewSaga is the first state of a new order's saga. Durations count from
// the database's now().
type NewSaga struct {
	OrderID  string
	Step     string
	Attempts int
	Deadline time.Duration
	// Owner holds the saga for HoldFor; "" holds it for no one.
	Owner   string
	HoldFor time.Duration
	// RunIn is when the step is due for a runner that claims it.
	RunIn       time.Duration
	TraceParent string
}

const insertSaga = db.Statement(`WITH s AS (
		INSERT INTO sagas (order_id, step, attempts, deadline_at, lease_owner, lease_until, next_attempt_at, trace_parent)
		VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', nullif($5, ''), now() + $6 * interval '1 millisecond',
			now() + $7 * interval '1 millisecond', $8)
		RETURNING order_id)
	INSERT INTO saga_steps (order_id, seq, step, outcome, detail)
	SELECT s.order_id, r.n, r.step, r.outcome, r.detail
	FROM s, unnest($9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS r (step, outcome, detail, n)`)

// InsertSaga stores a new order's saga with the first entries of its
// history, in one statement.
func InsertSaga(ctx context.Context, db bun.IDB, sg NewSaga, history ...StepRecord) error {
	steps, outcomes, details := stepColumns(history)
	_, err := insertSaga.Exec(ctx, db, sg.OrderID, sg.Step, sg.Attempts, sg.Deadline.Milliseconds(), sg.Owner,
		sg.HoldFor.Milliseconds(), sg.RunIn.Milliseconds(), sg.TraceParent, steps, outcomes, details)
	if err != nil {
		return fmt.Errorf("insert saga: %w", err)
	}
	return nil
}

// SagaMove is a saga's next state, as its runner records it. Durations
// count from the database's now().
type SagaMove struct {
	Step     string
	Attempts int
	RunIn    time.Duration
	// HoldFor keeps the runner's lease; 0 frees the saga at once.
	HoldFor time.Duration
	// PaymentID and FailureReason replace the stored ones; nil keeps them.
	PaymentID, FailureReason *string
}

const moveSaga = db.Statement(`WITH moved AS (
		UPDATE sagas SET step = $1, attempts = $2,
			next_attempt_at = now() + $3 * interval '1 millisecond',
			lease_until = now() + $4 * interval '1 millisecond',
			payment_id = coalesce($5, payment_id), failure_reason = coalesce($6, failure_reason), updated_at = now()
		WHERE order_id = $7 AND lease_owner = $8 AND step = $9
		RETURNING order_id),
	appended AS (
		INSERT INTO saga_steps (order_id, seq, step, outcome, detail)
		SELECT m.order_id, last.seq + r.n, r.step, r.outcome, r.detail
		FROM moved m, (SELECT coalesce(max(seq), 0) AS seq FROM saga_steps WHERE order_id = $7) AS last,
			unnest($10::text[], $11::text[], $12::text[]) WITH ORDINALITY AS r (step, outcome, detail, n))
	SELECT count(*) FROM moved`)

// MoveSaga writes the saga's next state, only while owner holds it at
// step (ErrLeaseLost otherwise), and appends recs, in their order, to the
// order's history with it: one statement, which needs no transaction of
// its own when it is all a step writes.
func MoveSaga(ctx context.Context, db bun.IDB, orderID, owner, step string, to SagaMove, recs ...StepRecord) error {
	steps, outcomes, details := stepColumns(recs)
	var moved int
	err := moveSaga.Scan(ctx, db, &moved, to.Step, to.Attempts, to.RunIn.Milliseconds(), to.HoldFor.Milliseconds(),
		to.PaymentID, to.FailureReason, orderID, owner, step, steps, outcomes, details)
	if err != nil {
		return fmt.Errorf("move saga: %w", err)
	}
	if moved != 1 {
		return ErrLeaseLost
	}
	return nil
}

// MoveSaga is store.MoveSaga on the store's connection: a step whose
// outcome is the saga's move alone commits it in one statement.
func (s *Store) MoveSaga(ctx context.Context, orderID, owner, step string, to SagaMove, recs ...StepRecord) error {
	return MoveSaga(ctx, s.db, orderID, owner, step, to, recs...)
}

// SagaRestart is the state a finished saga starts again from.
type SagaRestart struct {
	Step string
	// Owner holds it for HoldFor.
	Owner         string
	HoldFor       time.Duration
	FailureReason string
	TraceParent   string
}

// RestartSaga starts the order's saga again at to, its attempts at zero
// and its payment the order's, only while the order's status is
// orderStatus and its saga (if it has one) is finished. False, with
// nothing written, otherwise.
func (s *Store) RestartSaga(ctx context.Context, orderID, orderStatus string, to SagaRestart) (bool, error) {
	res, err := s.db.NewRaw(`INSERT INTO sagas AS s (order_id, step, deadline_at, lease_owner, lease_until, payment_id, failure_reason, trace_parent)
		SELECT id, ?, now(), ?, now() + ? * interval '1 millisecond', payment_id, ?, ?
		FROM orders WHERE id = ? AND status = ?
		ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, attempts = 0, next_attempt_at = now(),
			lease_owner = excluded.lease_owner, lease_until = excluded.lease_until,
			failure_reason = excluded.failure_reason, trace_parent = excluded.trace_parent, updated_at = now()
		WHERE s.step = ?`,
		to.Step, to.Owner, to.HoldFor.Milliseconds(), to.FailureReason, to.TraceParent, orderID, orderStatus, StepDone).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("restart saga: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("restart saga: %w", err)
	}
	return n == 1, nil
}

const sagaColumns = `s.order_id, o.customer_id, o.total_cents, s.step, s.attempts, s.deadline_at,
	s.payment_id, s.failure_reason, s.lease_owner, s.trace_parent`

// Claim takes the lease of up to limit due sagas that no one holds.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration, limit int) ([]SagaRow, error) {
	var out []SagaRow
	err := s.db.NewRaw(`WITH claimed AS (
			UPDATE sagas SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond'
			WHERE order_id IN (SELECT order_id FROM sagas
				WHERE step <> ? AND next_attempt_at <= now() AND lease_until < now()
				ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING *)
		SELECT `+sagaColumns+` FROM claimed s JOIN orders o ON o.id = s.order_id`,
		owner, lease.Milliseconds(), StepDone, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("claim sagas: %w", err)
	}
	return out, nil
}

// ClaimOne takes the lease of one order's unfinished saga if no one holds
// it, due or not.
func (s *Store) ClaimOne(ctx context.Context, orderID, owner string, lease time.Duration) (SagaRow, bool, error) {
	var out []SagaRow
	err := s.db.NewRaw(`WITH claimed AS (
			UPDATE sagas SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond'
			WHERE order_id = ? AND step <> ? AND lease_until < now()
			RETURNING *)
		SELECT `+sagaColumns+` FROM claimed s JOIN orders o ON o.id = s.order_id`,
		owner, lease.Milliseconds(), orderID, StepDone).Scan(ctx, &out)
	if err != nil {
		return SagaRow{}, false, fmt.Errorf("claim saga: %w", err)
	}
	if len(out) == 0 {
		return SagaRow{}, false, nil
	}
	return out[0], true, nil
}

// Release frees the saga owner holds at step, so that another runner can
// claim it at once.
func (s *Store) Release(ctx context.Context, orderID, owner, step string) error {
	_, err := s.db.NewRaw(`UPDATE sagas SET lease_until = now(), updated_at = now()
		WHERE order_id = ? AND lease_owner = ? AND step = ? AND lease_until > now()`, orderID, owner, step).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release saga: %w", err)
	}
	return nil
}

// SagaStep returns an order's stored saga step: StepDone when finished,
// or for an order that never had a saga.
func (s *Store) SagaStep(ctx context.Context, orderID string) (string, error) {
	var step string
	err := s.db.NewRaw("SELECT step FROM sagas WHERE order_id = ?", orderID).Scan(ctx, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return StepDone, nil
	}
	if err != nil {
		return "", fmt.Errorf("read saga: %w", err)
	}
	return step, nil
}
