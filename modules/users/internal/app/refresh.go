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
	if err := s.store.InsertRefresh(ctx, row); err != nil {
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
	var next string
	var nextErr error
	spent, err := s.store.Spend(ctx, hashRefresh(in.RefreshToken), time.Now().UTC(), func(old store.RefreshRow) store.RefreshRow {
		var row store.RefreshRow
		next, row, nextErr = s.newRefresh(old.FamilyID, old.UserID)
		return row
	})
	if errors.Is(err, store.ErrRefreshInvalid) || errors.Is(err, store.ErrRefreshReused) {
		return users.Token{}, users.ErrInvalidRefreshToken
	}
	if err = errors.Join(err, nextErr); err != nil {
		return users.Token{}, err
	}
	acc, err := s.store.ByID(ctx, spent.UserID)
	if err != nil {
		return users.Token{}, err
	}
	return s.issue(ctx, acc, next)
}

// Logout revokes the family of the refresh token.
func (s *Service) Logout(ctx context.Context, in users.RefreshRequest) (users.LoggedOut, error) {
	if in.RefreshToken == "" {
		return users.LoggedOut{}, nil
	}
	return users.LoggedOut{}, s.store.RevokeFamilyOf(ctx, hashRefresh(in.RefreshToken), time.Now().UTC())
}
