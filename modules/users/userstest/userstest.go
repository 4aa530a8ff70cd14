// Package userstest is the contract suite of users.Service: every
// implementation (local, or the HTTP client) must pass it unchanged.
package userstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules/users"
	"mitosis/platform/problem"
)

// Run checks svc against the contract.
func Run(t *testing.T, svc users.Service) {
	ctx := context.Background()

	t.Run("register then get", func(t *testing.T) {
		email := Email()
		u, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "Ada", Password: "correct horse"})
		require.NoError(t, err)
		assert.NotEmpty(t, u.ID)
		assert.Equal(t, email, u.Email)
		assert.WithinDuration(t, time.Now(), u.CreatedAt, time.Minute)
		got, err := svc.Get(ctx, users.GetRequest{ID: u.ID})
		require.NoError(t, err)
		assert.Equal(t, u, got)
	})

	t.Run("list pages through every user, newest first", func(t *testing.T) {
		var made []string
		for range 3 {
			u, err := svc.Register(ctx, users.RegisterRequest{Email: Email(), Name: "L", Password: "password1"})
			require.NoError(t, err)
			assert.Equal(t, users.RoleCustomer, u.Role)
			made = append([]string{u.ID}, made...)
		}
		first, err := svc.List(ctx, users.ListUsersRequest{Limit: 2})
		require.NoError(t, err)
		require.Len(t, first.Items, 2)
		require.NotEmpty(t, first.NextCursor)
		second, err := svc.List(ctx, users.ListUsersRequest{Limit: 2, Cursor: first.NextCursor})
		require.NoError(t, err)
		require.NotEmpty(t, second.Items)
		got := []string{first.Items[0].ID, first.Items[1].ID, second.Items[0].ID}
		assert.Equal(t, made, got, "the three newest users, in order")

		_, err = svc.List(ctx, users.ListUsersRequest{Limit: 101, Cursor: "garbage!"})
		var ve *problem.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.ElementsMatch(t, []string{"limit", "cursor"}, ve.FieldNames())
	})

	t.Run("email taken regardless of case", func(t *testing.T) {
		email := Email()
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "A", Password: "password1"})
		require.NoError(t, err)
		_, err = svc.Register(ctx, users.RegisterRequest{Email: strings.ToUpper(email), Name: "B", Password: "password2"})
		require.ErrorIs(t, err, users.ErrEmailTaken)
	})

	t.Run("concurrent registrations of one email: exactly one wins", func(t *testing.T) {
		email := Email()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = svc.Register(ctx, users.RegisterRequest{Email: email, Name: "C", Password: "password1"})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, users.ErrEmailTaken)
			}
		}
		assert.Equal(t, 1, wins)
	})

	t.Run("invalid registration names every bad field", func(t *testing.T) {
		_, err := svc.Register(ctx, users.RegisterRequest{Email: "not-an-email", Name: "", Password: "short"})
		require.ErrorIs(t, err, problem.ErrValidation)
		var ve *problem.ValidationError
		require.True(t, errors.As(err, &ve))
		assert.ElementsMatch(t, []string{"email", "name", "password"}, ve.FieldNames())
	})

	t.Run("authenticate issues a bearer token", func(t *testing.T) {
		email := Email()
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "D", Password: "password1"})
		require.NoError(t, err)
		tok, err := svc.Authenticate(ctx, users.Credentials{Email: strings.ToUpper(email), Password: "password1"})
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.NotEmpty(t, tok.AccessToken)
		assert.Positive(t, tok.ExpiresIn)
	})

	t.Run("refresh rotates; reuse revokes the family; logout ends it", func(t *testing.T) {
		email := Email()
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "R", Password: "password1"})
		require.NoError(t, err)
		login, err := svc.Authenticate(ctx, users.Credentials{Email: email, Password: "password1"})
		require.NoError(t, err)
		require.NotEmpty(t, login.RefreshToken)

		second, err := svc.Refresh(ctx, users.RefreshRequest{RefreshToken: login.RefreshToken})
		require.NoError(t, err)
		assert.NotEmpty(t, second.AccessToken)
		assert.NotEqual(t, login.RefreshToken, second.RefreshToken, "rotated on every use")
		third, err := svc.Refresh(ctx, users.RefreshRequest{RefreshToken: second.RefreshToken})
		require.NoError(t, err)

		// The first token, already spent, comes back: someone copied it.
		_, err = svc.Refresh(ctx, users.RefreshRequest{RefreshToken: login.RefreshToken})
		require.ErrorIs(t, err, users.ErrInvalidRefreshToken)
		_, err = svc.Refresh(ctx, users.RefreshRequest{RefreshToken: third.RefreshToken})
		require.ErrorIs(t, err, users.ErrInvalidRefreshToken, "the whole family is revoked")

		// Another login is another family, untouched; logout ends it.
		other, err := svc.Authenticate(ctx, users.Credentials{Email: email, Password: "password1"})
		require.NoError(t, err)
		renewed, err := svc.Refresh(ctx, users.RefreshRequest{RefreshToken: other.RefreshToken})
		require.NoError(t, err)
		_, err = svc.Logout(ctx, users.RefreshRequest{RefreshToken: renewed.RefreshToken})
		require.NoError(t, err)
		_, err = svc.Refresh(ctx, users.RefreshRequest{RefreshToken: renewed.RefreshToken})
		require.ErrorIs(t, err, users.ErrInvalidRefreshToken)
		_, err = svc.Logout(ctx, users.RefreshRequest{RefreshToken: renewed.RefreshToken})
		require.NoError(t, err, "logging out twice is fine")

		for _, bad := range []string{"", "garbage", strings.Repeat("A", 43)} {
			_, err = svc.Refresh(ctx, users.RefreshRequest{RefreshToken: bad})
			require.ErrorIs(t, err, users.ErrInvalidRefreshToken)
		}
	})

	t.Run("concurrent uses of one refresh token: exactly one succeeds", func(t *testing.T) {
		email := Email()
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "S", Password: "password1"})
		require.NoError(t, err)
		login, err := svc.Authenticate(ctx, users.Credentials{Email: email, Password: "password1"})
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = svc.Refresh(ctx, users.RefreshRequest{RefreshToken: login.RefreshToken})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, users.ErrInvalidRefreshToken)
			}
		}
		assert.Equal(t, 1, wins)
	})

	t.Run("wrong credentials", func(t *testing.T) {
		email := Email()
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "E", Password: "password1"})
		require.NoError(t, err)
		_, err = svc.Authenticate(ctx, users.Credentials{Email: email, Password: "password2"})
		require.ErrorIs(t, err, users.ErrInvalidCredentials)
		_, err = svc.Authenticate(ctx, users.Credentials{Email: Email(), Password: "password1"})
		require.ErrorIs(t, err, users.ErrInvalidCredentials)
	})

	t.Run("unknown user", func(t *testing.T) {
		_, err := svc.Get(ctx, users.GetRequest{ID: uuid.NewString()})
		require.ErrorIs(t, err, users.ErrNotFound)
		_, err = svc.Get(ctx, users.GetRequest{ID: "not-a-uuid"})
		require.ErrorIs(t, err, users.ErrNotFound)
	})

	t.Run("an expired deadline is honoured", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
		defer cancel()
		<-dctx.Done()
		_, err := svc.Get(dctx, users.GetRequest{ID: uuid.NewString()})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// Email returns an address no other test uses.
func Email() string { return fmt.Sprintf("u-%s@example.test", uuid.NewString()[:12]) }
