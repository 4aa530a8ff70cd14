package modulestest

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"github.com/uptrace/bun"
)

// Statements is a bun query hook counting what a module sends to its
// database: statements (BEGIN and COMMIT included) and durable commits (a
// COMMIT of a transaction that wrote, or a write outside one). Skip, when
// set, leaves out the statements it matches (upper-cased, trimmed). A
// module's statement budget test reads it around each path.
type Statements struct {
	Skip func(query string) bool

	mu              sync.Mutex
	n, commits      int
	inTx, wroteInTx bool
}

// Count is what Statements counted since the last Take.
type Count struct{ Statements, Commits int }

// writesInCTE finds a data-modifying statement in a WITH query (not a
// row lock: FOR UPDATE is a read).
var writesInCTE = regexp.MustCompile(`\b(INSERT INTO|DELETE FROM|UPDATE\s+\S+(\s+AS\s+\S+)?\s+SET)\b`)

func (c *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *Statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q := strings.ToUpper(strings.TrimSpace(e.Query))
	if c.Skip != nil && c.Skip(q) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	write := strings.HasPrefix(q, "INSERT") || strings.HasPrefix(q, "UPDATE") || strings.HasPrefix(q, "DELETE") ||
		(strings.HasPrefix(q, "WITH") && writesInCTE.MatchString(q))
	switch {
	case strings.HasPrefix(q, "BEGIN"):
		c.inTx, c.wroteInTx = true, false
	case strings.HasPrefix(q, "COMMIT"):
		if c.wroteInTx {
			c.commits++
		}
		c.inTx = false
	case strings.HasPrefix(q, "ROLLBACK"):
		c.inTx = false
	case write && c.inTx:
		c.wroteInTx = true
	case write:
		c.commits++
	}
}

// Take returns the count since the last Take, and starts again.
func (c *Statements) Take() Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Count{c.n, c.commits}
	c.n, c.commits = 0, 0
	return out
}
