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

	t.Run("unicode addresses: one canonical form", func(t *testing.T) { unicodeAddresses(t, svc) })

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

// unicodeAddresses: uniqueness and login compare one canonical form (NFKC,
// case folded, the domain in IDNA ASCII); invisible characters and mixed
// scripts are refused.
func unicodeAddresses(t *testing.T, svc users.Service) {
	ctx := context.Background()
	tag := digits()
	register := func(email, password string) error {
		_, err := svc.Register(ctx, users.RegisterRequest{Email: email, Name: "U", Password: password})
		return err
	}
	login := func(email, password string) error {
		_, err := svc.Authenticate(ctx, users.Credentials{Email: email, Password: password})
		return err
	}

	t.Run("İvan and ivan are two addresses", func(t *testing.T) {
		dotted, plain := "İvan"+tag+"@example.com", "ivan"+tag+"@example.com"
		require.NoError(t, register(dotted, "dotted password"))
		require.NoError(t, register(plain, "plain password"), "İ folds to i with a dot above: another letter")
		require.ErrorIs(t, register("İVAN"+tag+"@example.com", "third password"), users.ErrEmailTaken, "case never counts")
		require.NoError(t, login(plain, "plain password"))
		require.ErrorIs(t, login(plain, "dotted password"), users.ErrInvalidCredentials, "ivan never opens İvan's account")
		require.NoError(t, login(dotted, "dotted password"))
		require.ErrorIs(t, login(dotted, "plain password"), users.ErrInvalidCredentials)
	})
	t.Run("the Kelvin sign is a k", func(t *testing.T) {
		require.NoError(t, register("kim"+tag+"@example.com", "kim's password"))
		require.ErrorIs(t, register("\u212Aim"+tag+"@example.com", "squatter's password"), users.ErrEmailTaken)
		require.NoError(t, login("\u212Aim"+tag+"@example.com", "kim's password"), "the same address, so the same account")
	})
	t.Run("full-width letters are the letters", func(t *testing.T) {
		require.NoError(t, register("full"+tag+"@example.com", "full password"))
		require.ErrorIs(t, register("ｆｕｌｌ"+fullWidth(tag)+"@ｅｘａｍｐｌｅ.com", "squatter's password"), users.ErrEmailTaken)
	})
	t.Run("an IDN domain is its ASCII form", func(t *testing.T) {
		u, err := svc.Register(ctx, users.RegisterRequest{Email: "idn" + tag + "@bücher.example", Name: "U", Password: "idn password"})
		require.NoError(t, err)
		require.Equal(t, "idn"+tag+"@bücher.example", u.Email, "kept as typed")
		require.ErrorIs(t, register("IDN"+tag+"@xn--bcher-kva.example", "squatter's password"), users.ErrEmailTaken)
		require.NoError(t, login("idn"+tag+"@XN--BCHER-KVA.example", "idn password"))
	})
	t.Run("a script of its own is fine", func(t *testing.T) {
		require.NoError(t, register("иван"+tag+"@example.com", "cyrillic password"))
	})
	for name, email := range map[string]string{
		"zero-width joiner":        "zw\u200dj" + tag + "@example.com",
		"zero-width space":         "zw\u200bsp" + tag + "@example.com",
		"right-to-left override":   "ivan\u202e" + tag + "@example.com",
		"Cyrillic among Latin":     "\u0456van" + tag + "@example.com",
		"Greek among Latin":        "ivan\u03bf" + tag + "@example.com",
		"zero-width in the domain": "ivan" + tag + "@exa\u200dmple.com",
	} {
		t.Run("refused: "+name, func(t *testing.T) {
			err := register(email, "long enough password")
			require.ErrorIs(t, err, problem.ErrValidation)
			var ve *problem.ValidationError
			require.True(t, errors.As(err, &ve))
			require.Equal(t, []string{"email"}, ve.FieldNames())
		})
	}
}

// digits returns 12 random decimal digits: unique like Email's suffix, and
// of no script, so they can follow letters of any.
func digits() string {
	id := uuid.New()
	var b strings.Builder
	for _, c := range id[:12] {
		b.WriteByte('0' + c%10)
	}
	return b.String()
}

// fullWidth writes ASCII digits and letters in their full-width forms.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f {
			return r - '!' + '！'
		}
		return r
	}, s)
}
