package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
)

// Statement is SQL written with PostgreSQL's own placeholders ($1, $2,
// ...), for the statements a module runs on every request. bun writes
// every value into the text it sends (Open explains why its statements use
// the simple protocol), so PostgreSQL parses and plans each of them anew:
// about a quarter of its CPU per order placement. A Statement's arguments
// travel beside its text instead, and the connection prepares it once
// (pgx's statement cache): PostgreSQL parses it once per connection and,
// after a few runs, reuses a generic plan.
//
// It still runs through bun (NewRaw), so every query hook sees it as it
// sees any statement (the SQL spans, whose text is then the statement as
// written, the events' wake-up, the statement budgets), and scanning is
// bun's. The arguments reach the driver through the context, bound to
// this text only; Open's connector hands them on.
type Statement string

// Exec runs the statement on idb with args.
func (s Statement) Exec(ctx context.Context, idb bun.IDB, args ...any) (sql.Result, error) {
	return idb.NewRaw(string(s)).Exec(s.bind(ctx, args))
}

// Scan runs the statement on idb with args and scans its rows into dest
// as bun's Scan does.
func (s Statement) Scan(ctx context.Context, idb bun.IDB, dest any, args ...any) error {
	return idb.NewRaw(string(s)).Scan(s.bind(ctx, args), dest)
}

type boundKey struct{}

// bound is a Statement's arguments on their way to the driver.
type bound struct {
	query string
	args  []any
}

func (s Statement) bind(ctx context.Context, args []any) context.Context {
	return context.WithValue(ctx, boundKey{}, bound{query: string(s), args: args})
}

// statementConnector opens connections that run a Statement with its
// arguments.
type statementConnector struct{ driver.Connector }

func (c statementConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pgxConn, ok := conn.(*stdlib.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("database connection: pgx's connector returned a %T", conn)
	}
	return statementConn{pgxConn}, nil
}

// statementConn is pgx's connection, which receives a Statement's
// arguments from the context when database/sql hands it the statement's
// text without any (bun passes none).
type statementConn struct{ *stdlib.Conn }

func (c statementConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, query, withBound(ctx, query, args))
}

func (c statementConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, query, withBound(ctx, query, args))
}

// withBound is args, or, for the text of the Statement the context
// carries, its arguments, led by the mode that prepares it once per
// connection. Any other statement in that context is left as it came.
func withBound(ctx context.Context, query string, args []driver.NamedValue) []driver.NamedValue {
	b, ok := ctx.Value(boundKey{}).(bound)
	if !ok || b.query != query || len(args) > 0 {
		return args
	}
	out := make([]driver.NamedValue, 0, 1+len(b.args))
	out = append(out, driver.NamedValue{Ordinal: 1, Value: pgx.QueryExecModeCacheStatement})
	for i, a := range b.args {
		out = append(out, driver.NamedValue{Ordinal: i + 2, Value: a})
	}
	return out
}
