package db

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Open connects to the module's data with search_path pinned to its schema,
// so its queries name only its own tables. It does not dial until used.
func Open(t Target, maxConns int) (*bun.DB, error) {
	cc, err := pgx.ParseConfig(t.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL of %s: %w", t.Module, err)
	}
	// bun inlines (and escapes) every value into the SQL text, so each
	// statement is new text: pgx's default would prepare, run once and later
	// evict every one of them, tripling the round trips. Plain queries are
	// one round trip. A Statement, whose text does not change, is prepared.
	cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cc.RuntimeParams["search_path"] = t.Schema
	cc.RuntimeParams["application_name"] = "mitosis-" + t.Module
	sqldb := sql.OpenDB(statementConnector{stdlib.GetConnector(*cc)})
	configurePool(sqldb, maxConns)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

func configurePool(sqldb *sql.DB, maxConns int) {
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
}
