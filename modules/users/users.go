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
	// Register creates a user; ErrEmailTaken if the email (any case) exists.
	Register(ctx context.Context, in RegisterRequest) (User, error)
	// Authenticate checks credentials and issues an access token;
	// ErrInvalidCredentials otherwise.
	Authenticate(ctx context.Context, in Credentials) (Token, error)
	// Get returns one user; ErrNotFound if there is none.
	Get(ctx context.Context, in GetRequest) (User, error)
}

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
	CreatedAt time.Time `json:"created_at"`
}

// Token is an issued access token.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Errors of the users contract.
var (
	// ErrEmailTaken means another user registered the email.
	ErrEmailTaken = problem.New("users.email_taken", http.StatusConflict, "Email already registered")
	// ErrInvalidCredentials means the email or password is wrong.
	ErrInvalidCredentials = problem.New("users.invalid_credentials", http.StatusUnauthorized, "Invalid email or password")
	// ErrNotFound means there is no such user.
	ErrNotFound = problem.New("users.not_found", http.StatusNotFound, "User not found")
)

// Errors lists the contract's errors, for clients decoding codes.
var Errors = []*problem.Error{ErrEmailTaken, ErrInvalidCredentials, ErrNotFound}

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
