package app

import (
	"context"
	"time"

	"mitosis/modules/users"
	"mitosis/platform/page"
	"mitosis/platform/problem"
)

// List returns a page of users, newest first, with keyset pagination.
func (s *Service) List(ctx context.Context, in users.ListUsersRequest) (users.UserPage, error) {
	var bad problem.Fields
	keyset := page.Parse(&bad, in.Limit, in.Cursor)
	if err := bad.Err(); err != nil {
		return users.UserPage{}, err
	}
	items, err := s.store.List(ctx, keyset)
	if err != nil {
		return users.UserPage{}, err
	}
	out := users.UserPage{}
	out.Items, out.NextCursor = page.Trim(keyset, items, func(u users.User) (time.Time, string) { return u.CreatedAt, u.ID })
	return out, nil
}
