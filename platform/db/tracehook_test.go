package db_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/db"
	"mitosis/platform/pgtest"
	"mitosis/platform/telemetry/telemetrytest"
)

type item struct {
	bun.BaseModel `bun:"table:items"`
	ID            int    `bun:"id,pk"`
	Name          string `bun:"name"`
}

// Every kind of statement bun sends (a model insert, a query builder, a
// raw query, a plain Exec, a transaction) is a span whose statement holds
// placeholders, never the values bun inlined into the text it sent.
func TestSQLSpansCarryTheShapeNeverAValue(t *testing.T) {
	rcv := telemetrytest.Start(t)
	tr := telemetrytest.Tracing(t, rcv, 1, "orders")
	target := prepared(t, sharedConfig(pgtest.NewDatabase(t)), "orders")
	bdb, err := db.Open(target, 2)
	require.NoError(t, err)
	t.Cleanup(func() { _ = bdb.Close() })
	bdb.AddQueryHook(db.NewTraceHook(tr.Tracer("orders"), target.Schema))

	const secret, number = "s3cr3t-Ada-Lovelace", 918273
	secrets := []string{secret, "918273", "774411", "not-a-number"}
	ctx, root := tr.Tracer("orders").Start(context.Background(), "request")
	_, err = bdb.NewSelect().Model((*item)(nil)).Where("name = ?", "before anything").Exists(context.Background())
	require.NoError(t, err, "outside a trace: no span")
	require.NoError(t, bdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&item{ID: number, Name: secret}).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw("UPDATE items SET name = ? WHERE id = ?", secret+"!", 774411).Exec(ctx)
		return err
	}))
	var got item
	require.NoError(t, bdb.NewSelect().Model(&got).Where("id = ?", number).Where("name = ?", secret).Scan(ctx))
	_, err = bdb.ExecContext(ctx, "DELETE FROM items WHERE name = ?", secret)
	require.NoError(t, err)
	err = bdb.NewSelect().Model(&got).Where("id = ?", 774411).Scan(ctx)
	require.True(t, errors.Is(err, sql.ErrNoRows))
	_, err = bdb.NewRaw("SELECT ?::int", "not-a-number").Exec(ctx)
	require.Error(t, err, "a failure whose message quotes the value")
	root.End()
	require.NoError(t, tr.ForceFlush(t.Context()))

	spans := rcv.WaitFor(t, 5*time.Second, "the statements", func(s []telemetrytest.Span) bool { return len(s) >= 9 })
	var names []string
	for _, s := range spans {
		if s.Name == "request" {
			continue
		}
		names = append(names, s.Name)
		assert.Equal(t, "client", s.Kind)
		assert.Equal(t, "orders", s.Service)
		assert.Equal(t, "postgresql", s.Attributes["db.system.name"])
		assert.Equal(t, target.Schema, s.Attributes["db.namespace"])
		for k, v := range s.Attributes {
			for _, lit := range secrets {
				assert.NotContains(t, v, lit, "%s of %s", k, s.Name)
			}
		}
		assert.Equal(t, root.SpanContext().TraceID().String(), s.TraceID)
	}
	assert.Equal(t, []string{"BEGIN", "INSERT", "UPDATE", "COMMIT", "SELECT", "DELETE", "SELECT", "SELECT"}, names)
	byText := map[string]telemetrytest.Span{}
	for _, s := range spans {
		byText[s.Attributes["db.query.text"]] = s
	}
	require.Contains(t, byText, "UPDATE items SET name = ? WHERE id = ?")
	require.Contains(t, byText, "DELETE FROM items WHERE name = ?")
	var insert string
	for text := range byText {
		if strings.HasPrefix(text, "INSERT") {
			insert = text
		}
	}
	assert.Contains(t, insert, "?", "the model's values are placeholders: %s", insert)
	for _, s := range spans {
		if s.Name == "BEGIN" || s.Name == "COMMIT" {
			assert.Equal(t, root.SpanContext().SpanID().String(), s.ParentID, "%s is the request's child, not BEGIN's", s.Name)
		}
	}
	failed := byText["SELECT ?::int"]
	assert.True(t, failed.Error)
	assert.Equal(t, "22P02", failed.Attributes["error.type"], "the SQLSTATE, not the message")
	none, ok := byText[`SELECT "item"."id", "item"."name" FROM "items" AS "item" WHERE (id = ?)`]
	require.True(t, ok, "the statements: %v", byText)
	assert.False(t, none.Error, "no rows is no error")
}
