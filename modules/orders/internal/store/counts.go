package store

import (
	"context"
	"fmt"
)

// UnfinishedSagas counts the sagas not settled yet by the step they wait
// at, on the partial index of unfinished sagas (a settled one costs
// nothing here).
func (s *Store) UnfinishedSagas(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Step string `bun:"step"`
		N    int    `bun:"n"`
	}
	if err := s.db.NewRaw(`SELECT step, count(*) AS n FROM sagas WHERE step <> ? GROUP BY step`, StepDone).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count sagas: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Step] = r.N
	}
	return out, nil
}
