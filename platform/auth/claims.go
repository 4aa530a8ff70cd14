// Package auth verifies access tokens and guards routes with them, and
// authenticates calls between modules. Only users signs access tokens (with
// Ed25519 keys it alone holds); everyone verifies them against the public
// keys, in-process or through users' JWKS.
package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

// Roles carried by access tokens.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Claims is what an access token says about its bearer.
type Claims struct {
	Subject string
	Role    string
}

type claimsKey struct{}

// WithClaims returns ctx carrying the authenticated claims.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Subject returns the authenticated user id ("" outside Required routes).
func Subject(ctx context.Context) string {
	c, _ := ctx.Value(claimsKey{}).(Claims)
	return c.Subject
}

// IsAdmin reports whether the authenticated user has the admin role.
func IsAdmin(ctx context.Context) bool {
	c, _ := ctx.Value(claimsKey{}).(Claims)
	return c.Role == RoleAdmin
}

// Bearer returns the token of the request's single Bearer Authorization header.
func Bearer(c echo.Context) (string, error) {
	header := c.Request().Header.Values("Authorization")
	if len(header) == 1 {
		scheme, token, ok := strings.Cut(header[0], " ")
		if token = strings.TrimSpace(token); ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			return token, nil
		}
	}
	return "", fmt.Errorf("%w: a single Authorization: Bearer header is required", problem.ErrUnauthorized)
}

// AdminOnly refuses, after Required, every caller without the admin role.
func AdminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !IsAdmin(c.Request().Context()) {
			return fmt.Errorf("%w: admin role required", problem.ErrForbidden)
		}
		return next(c)
	}
}
