package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/store"
)

// refreshBytes is the entropy of a refresh token: unguessable, so a plain
// SHA-256 (no salt, no slow hash) is enough to store it.
const refreshBytes = 32

// issue signs an access token for acc and returns it with refresh.
func (s *Service) issue(ctx context.Context, acc store.Account, refresh string) (users.Token, error) {
	key, err := s.keys.Signing(ctx)
	if err != nil {
		return users.Token{}, err
	}
	issued, err := s.issuer.Issue(key, acc.ID, acc.Role)
	if err != nil {
		return users.Token{}, err
	}
	return users.Token{
		AccessToken: issued.Token, TokenType: "Bearer", ExpiresIn: int(issued.ExpiresIn.Seconds()),
		RefreshToken: refresh,
	}, nil
}

// newRefresh makes a refresh token of family for user.
func (s *Service) newRefresh(family, user string) (string, store.RefreshRow, error) {
	raw := make([]byte, refreshBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", store.RefreshRow{}, fmt.Errorf("refresh token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC()
	return token, store.RefreshRow{
		TokenHash: hashRefresh(token), FamilyID: family, UserID: user,
		CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL),
	}, nil
}

func hashRefresh(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// login issues the tokens of a fresh login: a new refresh family.
func (s *Service) login(ctx context.Context, acc store.Account) (users.Token, error) {
	family, err := uuid.NewV7()
	if err != nil {
		return users.Token{}, fmt.Errorf("refresh family: %w", err)
	}
	refresh, row, err := s.newRefresh(family.String(), acc.ID)
	if err != nil {
		return users.Token{}, err
	}
	if err := store.InsertRefresh(ctx, s.store.DB(), row); err != nil {
		return users.Token{}, err
	}
	return s.issue(ctx, acc, refresh)
}

// Refresh spends the refresh token and issues its successor, with an
// access token carrying the user's current role.
func (s *Service) Refresh(ctx context.Context, in users.RefreshRequest) (users.Token, error) {
	if in.RefreshToken == "" {
		return users.Token{}, users.ErrInvalidRefreshToken
	}
	next, successor, err := s.newRefresh("", "")
	if err != nil {
		return users.Token{}, err
	}
	spent, err := s.spend(ctx, hashRefresh(in.RefreshToken), time.Now().UTC(), successor)
	if errors.Is(err, errRefreshInvalid) || errors.Is(err, errRefreshReused) {
		return users.Token{}, users.ErrInvalidRefreshToken
	}
	if err != nil {
		return users.Token{}, err
	}
	acc, err := s.store.ByID(ctx, spent.UserID)
	if err != nil {
		return users.Token{}, err
	}
	return s.issue(ctx, acc, next)
}

// Why spend refuses a refresh token.
var (
	errRefreshInvalid = errors.New("refresh token unknown, expired or revoked")
	errRefreshReused  = errors.New("refresh token reused: family revoked")
)

// spend marks the token with hash used at now and stores successor in its
// family, in one transaction, and returns the spent row. A token already
// used revokes its whole family (committed) and is errRefreshReused; an
// unknown, expired or revoked one is errRefreshInvalid. The row lock makes
// two concurrent uses of one token a reuse, never two successors.
func (s *Service) spend(ctx context.Context, hash []byte, now time.Time, successor store.RefreshRow) (store.RefreshRow, error) {
	var spent store.RefreshRow
	var refused error
	err := s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, found, err := store.LockRefresh(ctx, tx, hash)
		switch {
		case err != nil:
			return err
		case !found || row.RevokedAt != nil || !now.Before(row.ExpiresAt):
			refused = errRefreshInvalid
			return nil
		case row.UsedAt != nil:
			refused = errRefreshReused
			return store.RevokeFamily(ctx, tx, row.FamilyID, now)
		}
		spent = row
		if err := store.MarkRefreshUsed(ctx, tx, hash, now); err != nil {
			return err
		}
		successor.FamilyID, successor.UserID = row.FamilyID, row.UserID
		return store.InsertRefresh(ctx, tx, successor)
	})
	if err != nil {
		return store.RefreshRow{}, err
	}
	return spent, refused
}

// Logout revokes the family of the refresh token.
func (s *Service) Logout(ctx context.Context, in users.RefreshRequest) (users.LoggedOut, error) {
	if in.RefreshToken == "" {
		return users.LoggedOut{}, nil
	}
	return users.LoggedOut{}, s.store.RevokeFamilyOf(ctx, hashRefresh(in.RefreshToken), time.Now().UTC())
}
