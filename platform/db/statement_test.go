package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/db"
	"mitosis/platform/pgtest"
)

// seenQueries is a query hook that keeps the text of every statement.
type seenQueries struct {
	mu   sync.Mutex
	text []string
}

func (s *seenQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (s *seenQueries) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = append(s.text, e.Query)
}

// A Statement runs with its arguments sent beside its text, prepared once
// on the connection, through bun's query hooks like any other statement;
// in a transaction, it is the transaction's.
func TestAStatementIsPreparedAndSeenByTheHooks(t *testing.T) {
	target := prepared(t, sharedConfig(pgtest.NewDatabase(t)), "orders")
	bdb, err := db.Open(target, 1) // one connection: the one that prepared it
	require.NoError(t, err)
	t.Cleanup(func() { _ = bdb.Close() })
	var seen seenQueries
	bdb.AddQueryHook(&seen)
	ctx := t.Context()

	const insert = db.Statement(`INSERT INTO items (id, name) SELECT id, $2 FROM unnest($1::int[]) AS u (id)`)
	const byName = db.Statement(`SELECT id FROM items WHERE name = $1 AND id = ANY($2) ORDER BY id`)
	const name = "it's a 'quoted' name; DROP TABLE items"
	for range 3 {
		_, err = bdb.NewDelete().Model((*item)(nil)).Where("true").Exec(ctx)
		require.NoError(t, err)
		res, err := insert.Exec(ctx, bdb, []int{1, 2, 3}, name)
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		assert.EqualValues(t, 3, n)
		var ids []int
		require.NoError(t, byName.Scan(ctx, bdb, &ids, name, []int{3, 1, 7}))
		assert.Equal(t, []int{1, 3}, ids, "the text bound as a value, not as SQL")
	}

	var preparedCount int
	require.NoError(t, bdb.NewRaw(`SELECT count(*) FROM pg_prepared_statements WHERE statement IN (?, ?)`,
		string(insert), string(byName)).Scan(ctx, &preparedCount))
	assert.Equal(t, 2, preparedCount, "each prepared once on the connection")
	seen.mu.Lock()
	assert.Contains(t, seen.text, string(byName), "the hooks see the statement as written, never its values")
	for _, q := range seen.text {
		assert.NotContains(t, q, "quoted", "no value in any statement's text")
	}
	seen.mu.Unlock()

	// In a transaction it is the transaction's: rolled back with it.
	rollback := errors.New("roll back")
	err = bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := insert.Exec(ctx, tx, []int{10}, name); err != nil {
			return err
		}
		var ids []int
		if err := byName.Scan(ctx, tx, &ids, name, []int{10}); err != nil {
			return err
		}
		assert.Equal(t, []int{10}, ids, "visible in its transaction")
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	var ids []int
	require.NoError(t, byName.Scan(ctx, bdb, &ids, name, []int{10}))
	assert.Empty(t, ids, "gone with the transaction")

	// PostgreSQL's errors come back as they are.
	_, err = insert.Exec(ctx, bdb, []int{1}, name)
	var pg *pgconn.PgError
	require.ErrorAs(t, err, &pg)
	assert.Equal(t, "23505", pg.Code, "unique violation")
}
