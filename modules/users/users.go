// Package users is the contract of the users module: registration,
// credentials and the customer directory other modules consult.
package users

import (
	"context"
	"net/http"
	"time"

	"mitosis/platform/problem"
)

// Service is what other modules and the HTTP API may ask of users.
type Service interface {
	// Register creates a user; ErrEmailTaken if an email of the same
	// canonical form (case and Unicode look-alikes folded) exists.
	Register(ctx context.Context, in RegisterRequest) (User, error)
	// Authenticate checks credentials and issues an access token;
	// ErrInvalidCredentials otherwise.
	Authenticate(ctx context.Context, in Credentials) (Token, error)
	// Get returns one user; ErrNotFound if there is none.
	Get(ctx context.Context, in GetRequest) (User, error)
	// List returns a page of every user, newest first (the admin view; the
	// HTTP API checks the role). Limit defaults to 20, at most 100.
	List(ctx context.Context, in ListUsersRequest) (UserPage, error)
	// Refresh trades a refresh token for a new access token and a new
	// refresh token; the one presented is spent. Presenting a spent one
	// again revokes every token descended from the same login.
	// ErrInvalidRefreshToken otherwise.
	Refresh(ctx context.Context, in RefreshRequest) (Token, error)
	// Logout revokes the refresh token and every token of its login. An
	// unknown token is no error: logging out twice is fine.
	Logout(ctx context.Context, in RefreshRequest) (LoggedOut, error)
}

// ListUsersRequest is the input of List. Cursor comes from the previous page.
type ListUsersRequest struct {
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

// UserPage is one page of users; NextCursor is empty on the last page.
type UserPage struct {
	Items      []User `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Roles a user can have. The first admin is made with
// `app users promote EMAIL`.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// RefreshRequest is the input of Refresh and Logout.
type RefreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// LoggedOut is the (empty) result of Logout.
type LoggedOut struct{}

// RegisterRequest is the input of Register.
type RegisterRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Credentials is the input of Authenticate.
type Credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// GetRequest is the input of Get.
type GetRequest struct {
	ID string `json:"id"`
}

// User is a registered user, without secrets.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an issued access token, with the refresh token that renews it.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// Errors of the users contract.
var (
	// ErrEmailTaken means another user registered the email.
	ErrEmailTaken = problem.New("users.email_taken", http.StatusConflict, "Email already registered")
	// ErrInvalidCredentials means the email or password is wrong.
	ErrInvalidCredentials = problem.New("users.invalid_credentials", http.StatusUnauthorized, "Invalid email or password")
	// ErrNotFound means there is no such user.
	ErrNotFound = problem.New("users.not_found", http.StatusNotFound, "User not found")
	// ErrInvalidRefreshToken means the refresh token is unknown, expired,
	// spent or revoked.
	ErrInvalidRefreshToken = problem.New("users.invalid_refresh_token", http.StatusUnauthorized, "Invalid refresh token")
)

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrEmailTaken, ErrInvalidCredentials, ErrNotFound, ErrInvalidRefreshToken}

// EventUserRegistered is the type of the event users publishes when a user
// registers; its aggregate is the user and its payload UserRegistered.
const EventUserRegistered = "user.registered"

// UserRegistered is the payload of user.registered.
type UserRegistered struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
}

// OrderStats is a customer's order statistics, kept by users from the
// order events (a read model: it trails the orders by the event delay).
type OrderStats struct {
	OrdersConfirmed int   `json:"orders_confirmed"`
	TotalSpentCents int64 `json:"total_spent_cents"`
}

// Me is the answer of GET /api/v1/users/me: the user and their statistics.
type Me struct {
	User
	Stats OrderStats `json:"stats"`
}
