// Package page is the keyset pagination every listing shares: newest first,
// by (created_at, id), so pages stay stable while new rows arrive. A cursor
// is the position of the last row of a page, opaque to clients.
package page

import (
	"encoding/base64"
	"strings"
	"time"

	"mitosis/platform/ids"
	"mitosis/platform/problem"
)

// Limits on a page's size.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Keyset is where a page starts (rows before (Before, BeforeID); zero means
// the newest) and how many rows to read: one more than asked, to know
// whether another page follows.
type Keyset struct {
	Limit    int
	Before   time.Time
	BeforeID string
}

// Parse checks a listing's limit (0 means DefaultLimit) and cursor, naming
// bad ones in bad.
func Parse(bad *problem.Fields, limit int, cursor string) Keyset {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		bad.Add("limit", "must be between 1 and 100")
	}
	k := Keyset{Limit: limit + 1}
	if cursor != "" {
		before, id, ok := Decode(cursor)
		if !ok {
			bad.Add("cursor", "is not a cursor from a previous page")
		}
		k.Before, k.BeforeID = before, id
	}
	return k
}

// Trim cuts the rows read with k to the page asked for and returns the
// cursor of the next page, "" on the last one. position gives a row's
// (created_at, id).
func Trim[T any](k Keyset, rows []T, position func(T) (time.Time, string)) ([]T, string) {
	limit := k.Limit - 1
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, Encode(position(rows[limit-1]))
}

// Encode is the cursor of the row at (at, id).
func Encode(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// Decode reads a cursor; ok is false for anything Encode did not make.
func Decode(c string) (at time.Time, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, found := strings.Cut(string(raw), "|")
	at, err = time.Parse(time.RFC3339Nano, ts)
	if !found || err != nil || !ids.Valid(id) {
		return time.Time{}, "", false
	}
	return at, id, true
}
