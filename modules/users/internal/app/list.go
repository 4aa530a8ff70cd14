package app

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/store"
	"mitosis/platform/problem"
)

const (
	defaultLimit = 20
	maxLimit     = 100
)

// List returns a page of users, newest first, with keyset pagination.
func (s *Service) List(ctx context.Context, in users.ListUsersRequest) (users.UserPage, error) {
	var bad problem.Fields
	limit := in.Limit
	if limit == 0 {
		limit = defaultLimit
	}
	if limit < 1 || limit > maxLimit {
		bad.Add("limit", "must be between 1 and 100")
	}
	page := store.Page{Limit: limit + 1}
	if in.Cursor != "" {
		before, id, ok := decodeCursor(in.Cursor)
		if !ok {
			bad.Add("cursor", "is not a cursor from a previous page")
		}
		page.Before, page.BeforeID = before, id
	}
	if err := bad.Err(); err != nil {
		return users.UserPage{}, err
	}
	items, err := s.store.List(ctx, page)
	if err != nil {
		return users.UserPage{}, err
	}
	out := users.UserPage{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		last := out.Items[limit-1]
		out.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return out, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || uuid.Validate(id) != nil {
		return time.Time{}, "", false
	}
	return at, id, true
}
