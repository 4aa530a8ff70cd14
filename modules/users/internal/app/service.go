// Package app is the users domain: registration, credentials, lookup.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/keys"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/auth"
	"mitosis/platform/config"
	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

// Service is the local implementation of users.Service.
type Service struct {
	store     *store.Store
	keys      *keys.Ring
	issuer    *auth.Issuer
	passwords *auth.Passwords
	// refreshTTL is how long an unused refresh token stays valid.
	refreshTTL time.Duration
	// dummyHash is compared against when an email is unknown, so a login
	// takes as long whether or not the account exists.
	dummyHash string
}

var _ users.Service = (*Service)(nil)

// New returns the users service.
func New(s *store.Store, ring *keys.Ring, issuer *auth.Issuer, passwords *auth.Passwords, cfg config.Config) (*Service, error) {
	dummy, err := passwords.Hash(context.Background(), "not a real password")
	if err != nil {
		return nil, err
	}
	return &Service{store: s, keys: ring, issuer: issuer, passwords: passwords, refreshTTL: cfg.Auth.RefreshTokenTTL, dummyHash: dummy}, nil
}

// Register validates and stores a new user with a bcrypt password hash.
func (s *Service) Register(ctx context.Context, in users.RegisterRequest) (users.User, error) {
	email := strings.TrimSpace(in.Email)
	name := strings.TrimSpace(in.Name)
	if err := validateRegistration(email, name, in.Password); err != nil {
		return users.User{}, err
	}
	hash, err := s.passwords.Hash(ctx, in.Password)
	if err != nil {
		return users.User{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return users.User{}, fmt.Errorf("new user id: %w", err)
	}
	acc := store.Account{
		User: users.User{ID: id.String(), Email: email, Name: name, Role: users.RoleCustomer,
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond)},
		CanonicalEmail: CanonicalEmail(email),
		PasswordHash:   hash,
	}
	// The account and its user.registered event, in one transaction.
	err = s.store.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := store.InsertAccount(ctx, tx, acc); err != nil {
			return err
		}
		return store.Publish(ctx, tx, users.EventUserRegistered, acc.ID,
			users.UserRegistered{UserID: acc.ID, Email: acc.Email, Name: acc.Name})
	})
	if err != nil {
		return users.User{}, err
	}
	return acc.User, nil
}

func validateRegistration(email, name, password string) error {
	var bad problem.Fields
	if msg := emailProblem(email); msg != "" {
		bad.Add("email", msg)
	}
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		bad.Add("name", "must be 1 to 100 characters")
	}
	// bcrypt ignores bytes past 72; refuse rather than silently truncate.
	if len(password) < 8 || len(password) > 72 {
		bad.Add("password", "must be 8 to 72 bytes")
	}
	return bad.Err()
}

// Authenticate verifies the password and issues an access token and a
// refresh token.
func (s *Service) Authenticate(ctx context.Context, in users.Credentials) (users.Token, error) {
	email := strings.TrimSpace(in.Email)
	acc, err := s.store.ByEmail(ctx, email, CanonicalEmail(email))
	if errors.Is(err, users.ErrNotFound) {
		if _, err := s.passwords.Matches(ctx, s.dummyHash, in.Password); err != nil {
			return users.Token{}, err
		}
		return users.Token{}, users.ErrInvalidCredentials
	}
	if err != nil {
		return users.Token{}, err
	}
	ok, err := s.passwords.Matches(ctx, acc.PasswordHash, in.Password)
	if err != nil {
		return users.Token{}, err
	}
	if !ok {
		return users.Token{}, users.ErrInvalidCredentials
	}
	return s.login(ctx, acc)
}

// Get returns a user by id.
func (s *Service) Get(ctx context.Context, in users.GetRequest) (users.User, error) {
	if !ids.Valid(in.ID) {
		return users.User{}, users.ErrNotFound
	}
	acc, err := s.store.ByID(ctx, in.ID)
	if err != nil {
		return users.User{}, err
	}
	return acc.User, nil
}

// Me returns a user with their order statistics (the read model kept from
// order events, so it may trail a just-confirmed order briefly).
func (s *Service) Me(ctx context.Context, id string) (users.Me, error) {
	u, err := s.Get(ctx, users.GetRequest{ID: id})
	if err != nil {
		return users.Me{}, err
	}
	stats, err := s.store.Stats(ctx, u.ID)
	if err != nil {
		return users.Me{}, err
	}
	return users.Me{User: u, Stats: stats}, nil
}
