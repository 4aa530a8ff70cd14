package events_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Two modules: pub writes events about its things; sub records what it
// handled in effects (no unique key, so a second effect would show).
var tree = db.Migrations{
	FS: fstest.MapFS{
		"pub/20260101000001_init.tx.up.sql":   {Data: []byte("CREATE TABLE things (id text PRIMARY KEY);")},
		"pub/20260101000001_init.tx.down.sql": {Data: []byte("DROP TABLE things;")},
		"sub/20260101000001_init.tx.up.sql":   {Data: []byte("CREATE TABLE effects (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_id text NOT NULL, n int NOT NULL);")},
		"sub/20260101000001_init.tx.down.sql": {Data: []byte("DROP TABLE effects;")},
	},
	Shared: []fs.FS{events.Migrations},
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var fast = config.Events{PollInterval: 10 * time.Millisecond, BatchSize: 10, MaxAttempts: 3,
	BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond}

type world struct {
	pub, sub *bun.DB
	bus      *events.Bus
	// connect opens another pool on a module's database and schema, as a
	// replica of the module would.
	connect func(t *testing.T, module string) *bun.DB
}

// newWorld prepares both modules on a fresh database, each with its own
// schema and role, and subscribes sub to "thing.made" with handle.
func newWorld(t *testing.T, handle events.Handler) world {
	t.Helper()
	return newWorldIn(t, config.Shared, handle)
}

// newWorldIn is newWorld with the modules' database isolation given:
// shared (a schema each in one database) or isolated (a database each).
func newWorldIn(t *testing.T, isolation string, handle events.Handler) world {
	t.Helper()
	cfg := config.Config{Database: config.Database{URL: pgtest.NewDatabase(t), Isolation: isolation, Roles: config.RolesPerModule}}
	if isolation == config.Isolated {
		cfg.Modules = map[string]config.Module{}
		for _, m := range []string{"pub", "sub"} {
			cfg.Modules[m] = config.Module{Database: config.ModuleDatabase{URL: pgtest.NewDatabase(t)}}
		}
	}
	connect := func(t *testing.T, module string) *bun.DB {
		target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, module)
		require.NoError(t, err)
		bdb, err := db.Open(target, 8)
		require.NoError(t, err)
		t.Cleanup(func() { _ = bdb.Close() })
		return bdb
	}
	open := func(module string) *bun.DB {
		bdb := connect(t, module)
		target, err := db.TargetFor(cfg, &db.Cluster{AdminURL: cfg.Database.URL}, module)
		require.NoError(t, err)
		require.NoError(t, db.Prepare(context.Background(), target, bdb, tree, quiet))
		return bdb
	}
	w := world{pub: open("pub"), sub: open("sub"), bus: events.NewBus(), connect: connect}
	w.bus.Subscribe("sub", w.sub, map[string]events.Handler{"thing.made": handle})
	return w
}

// record is a handler that writes one effect row per call.
func record(ctx context.Context, tx bun.Tx, e events.Event) error {
	var p struct {
		N int `json:"n"`
	}
	if err := e.Decode(&p); err != nil {
		return err
	}
	_, err := tx.NewRaw("INSERT INTO effects (event_id, aggregate_id, n) VALUES (?, ?, ?)", e.ID, e.AggregateID, p.N).Exec(ctx)
	return err
}

// publish makes a thing and appends its event in one transaction (InTx,
// as the modules' stores run theirs), on pub's DB.
func (w world) publish(t *testing.T, aggregate string, n int) string {
	t.Helper()
	return publishOn(t, w.pub, aggregate, n)
}

// publishOn is publish on pub's connection bdb.
func publishOn(t *testing.T, bdb *bun.DB, aggregate string, n int) string {
	t.Helper()
	e, err := events.New("pub", "thing.made", aggregate, map[string]int{"n": n})
	require.NoError(t, err)
	require.NoError(t, events.InTx(context.Background(), bdb, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("INSERT INTO things (id) VALUES (?) ON CONFLICT DO NOTHING", aggregate).Exec(ctx); err != nil {
			return err
		}
		return events.AppendEvent(ctx, tx, e)
	}))
	return e.ID
}

// relay is pub's relay, delivering through deliver, by default sub's
// bus in batches.
func (w world) relay(deliver events.DeliverBatchFunc) *events.Relay {
	if deliver == nil {
		deliver = w.bus.DeliverBatch
	}
	return events.NewRelay("pub", w.pub, func(string) []string { return []string{"sub"} }, deliver, fast, quiet)
}

// effects lists the n of every effect of an aggregate, in insertion order.
func (w world) effects(t *testing.T, aggregate string) []int {
	t.Helper()
	var out []int
	require.NoError(t, w.sub.NewRaw("SELECT n FROM effects WHERE aggregate_id = ? ORDER BY seq", aggregate).Scan(context.Background(), &out))
	return out
}

func count(t *testing.T, db *bun.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.NewRaw(query, args...).Scan(context.Background(), &n))
	return n
}

// requireDrained waits until the publisher has nothing left to publish or
// deliver: the relay marks a delivery done after the subscriber commits, so
// effects can be visible a moment before the outbox is drained.
func (w world) requireDrained(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		lags, unfanned, err := events.Status(context.Background(), w.pub)
		require.NoError(t, err)
		return len(lags) == 0 && unfanned == 0
	}, 5*time.Second, 10*time.Millisecond, "nothing left to publish or deliver")
}
