package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
)

type subjectKey struct{}

// Required rejects requests without a valid bearer token and puts the
// subject into the request context.
func (t *Tokens) Required(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, err := bearer(c)
		if err != nil {
			return err
		}
		subject, err := t.Verify(token)
		if err != nil {
			return err
		}
		ctx := context.WithValue(c.Request().Context(), subjectKey{}, subject)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// bearer returns the token of the request's single Bearer Authorization header.
func bearer(c echo.Context) (string, error) {
	header := c.Request().Header.Values("Authorization")
	if len(header) == 1 {
		scheme, token, ok := strings.Cut(header[0], " ")
		if token = strings.TrimSpace(token); ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			return token, nil
		}
	}
	return "", fmt.Errorf("%w: a single Authorization: Bearer header is required", problem.ErrUnauthorized)
}

// Subject returns the authenticated user id ("" outside Required routes).
func Subject(ctx context.Context) string {
	s, _ := ctx.Value(subjectKey{}).(string)
	return s
}
