package usersfx

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/app"
	"mitosis/modules/users/internal/keys"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/topology"
)

// commands are `app users ...`.
var commands = []topology.Command{
	promote,
	{
		Use:   "rotate-key",
		Short: "Sign new tokens with a fresh key; the old one verifies until its tokens expire",
		Run: func(ctx context.Context, env topology.CommandEnv, _ []string) error {
			ring, err := openRing(env.Config, env.Log, store.New(env.DB))
			if err != nil {
				return err
			}
			kid, err := ring.Rotate(ctx)
			if err != nil {
				return err
			}
			// The new key is published now and signs from auth.PublishLead
			// on; running processes pick it up within 30 s, and until then
			// sign with the old key, which stays published for that long too.
			fmt.Fprintln(env.Out, "signing with key", kid)
			return nil
		},
	},
}

// signingKeySecret is the variable whose value seals the signing keys.
const signingKeySecret = "SIGNING_KEY_SECRET"

// openRing opens the signing keys, sealed with SIGNING_KEY_SECRET (required in
// production, generated once under DATA_DIR in development).
func openRing(cfg config.Config, log *slog.Logger, s *store.Store) (*keys.Ring, error) {
	secret, err := auth.Secret(cfg, log, signingKeySecret, cfg.Auth.SigningKeySecret, "signing_key_secret")
	if err != nil {
		return nil, err
	}
	sealer, err := keys.NewSealer(secret)
	if err != nil {
		return nil, err
	}
	return keys.NewRing(s, sealer, cfg.Auth.TokenTTL, cfg.Auth.SigningKeyMaxAge, time.Now), nil
}

// promote is `app users promote EMAIL`: how the first admin is made. The
// role is in the next access token the user gets (log in or refresh).
var promote = topology.Command{
	Use:   "promote EMAIL",
	Short: "Give a registered user the admin role",
	Args:  1,
	Run: func(ctx context.Context, env topology.CommandEnv, args []string) error {
		u, err := store.New(env.DB).SetRole(ctx, args[0], app.CanonicalEmail(args[0]), users.RoleAdmin)
		if err != nil {
			return fmt.Errorf("promote %s: %w", args[0], err)
		}
		fmt.Fprintf(env.Out, "%s (%s) is now an admin\n", u.Email, u.ID)
		return nil
	},
}
