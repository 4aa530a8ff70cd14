package page

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
)

type row struct {
	at time.Time
	id string
}

func position(r row) (time.Time, string) { return r.at, r.id }

func TestParseNamesBadFields(t *testing.T) {
	var bad problem.Fields
	k := Parse(&bad, 0, "")
	assert.NoError(t, bad.Err())
	assert.Equal(t, Keyset{Limit: DefaultLimit + 1}, k, "one row more than the page, to see the next")

	bad = problem.Fields{}
	Parse(&bad, MaxLimit+1, "not a cursor")
	var ve *problem.ValidationError
	require.True(t, errors.As(bad.Err(), &ve))
	assert.Equal(t, []string{"limit", "cursor"}, ve.FieldNames())

	bad = problem.Fields{}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	k = Parse(&bad, 5, Encode(at, "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11"))
	assert.NoError(t, bad.Err())
	assert.True(t, k.Before.Equal(at))
	assert.Equal(t, "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11", k.BeforeID)
}

func TestTrimGivesTheNextCursorOnlyWhenMoreFollow(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := []row{
		{at.Add(2 * time.Second), "00000000-0000-7000-8000-000000000003"},
		{at.Add(time.Second), "00000000-0000-7000-8000-000000000002"},
		{at, "00000000-0000-7000-8000-000000000001"},
	}
	k := Keyset{Limit: 3 + 1}
	got, next := Trim(k, rows, position)
	assert.Equal(t, rows, got, "exactly a page: no next")
	assert.Empty(t, next)

	k = Keyset{Limit: 2 + 1}
	got, next = Trim(k, rows, position)
	assert.Equal(t, rows[:2], got)
	before, id, ok := Decode(next)
	require.True(t, ok)
	assert.True(t, before.Equal(rows[1].at))
	assert.Equal(t, rows[1].id, id, "the cursor is the last row returned")
}
