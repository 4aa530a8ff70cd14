package app

import (
	"context"
	"time"

	"mitosis/modules/users/internal/store"
)

// The refresh token's spending, for tests that choose the time.
var (
	ErrRefreshInvalid = errRefreshInvalid
	ErrRefreshReused  = errRefreshReused
)

// Spend is spend on a service over s alone.
func Spend(ctx context.Context, s *store.Store, hash []byte, now time.Time, successor store.RefreshRow) (store.RefreshRow, error) {
	return (&Service{store: s}).spend(ctx, hash, now, successor)
}
