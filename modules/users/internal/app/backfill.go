package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/store"
)

// BackfillCanonicalEmails gives every account registered before canonical
// emails were stored its canonical form, oldest first, so the older of two
// accounts whose addresses turn out to be one keeps it. The younger keeps
// none: it logs in by its address exactly as typed, and the log names it.
// Run at every start; replicas running it at once agree (an account that
// has one is skipped).
func BackfillCanonicalEmails(ctx context.Context, s *store.Store, log *slog.Logger) error {
	var (
		at        time.Time
		id        string
		filled    int
		conflicts int
	)
	for {
		batch, err := s.WithoutCanonical(ctx, at, id, 500)
		if err != nil {
			return err
		}
		for _, u := range batch {
			err := s.SetCanonical(ctx, u.ID, CanonicalEmail(u.Email))
			switch {
			case errors.Is(err, users.ErrEmailTaken):
				conflicts++
				log.Warn("users: an older account has the same email address; this one logs in only by its address as typed",
					"user_id", u.ID, "email", u.Email)
			case err != nil:
				return err
			default:
				filled++
			}
			at, id = u.CreatedAt, u.ID
		}
		if len(batch) < 500 {
			break
		}
	}
	if filled+conflicts > 0 {
		log.Info("users: stored the canonical form of existing emails", "filled", filled, "conflicts", conflicts)
	}
	return nil
}
