package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/problem"
)

// A validation error lists at most MaxFieldErrors fields and counts the
// rest, in process and across the wire.
func TestValidationErrorsAreCapped(t *testing.T) {
	var bad problem.Fields
	for i := range 10_000 {
		bad.Add(fmt.Sprintf("items[%d].quantity", i), "must be between 1 and 1000")
	}
	err := bad.Err()
	var ve *problem.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Len(t, ve.Fields, problem.MaxFieldErrors)
	assert.Equal(t, "items[0].quantity", ve.Fields[0].Field, "the first ones are listed")
	assert.Equal(t, 10_000-problem.MaxFieldErrors, ve.Omitted)
	assert.Contains(t, err.Error(), "and 9980 more")

	d := problem.From(err)
	assert.Len(t, d.Errors, problem.MaxFieldErrors)
	assert.Equal(t, 9980, d.ErrorsOmitted)
	raw, err := json.Marshal(d)
	require.NoError(t, err)
	assert.Less(t, len(raw), 2000)
	assert.Contains(t, string(raw), `"errors_omitted":9980`)

	var back problem.Details
	require.NoError(t, json.Unmarshal(raw, &back))
	again := problem.Decode(back, problem.Registry())
	require.ErrorIs(t, again, problem.ErrValidation)
	require.True(t, errors.As(again, &ve))
	assert.Equal(t, 9980, ve.Omitted)
	assert.Len(t, ve.Fields, problem.MaxFieldErrors)

	// Nothing omitted: nothing said about it.
	raw, err = json.Marshal(problem.From(problem.Invalid("email", "must be a valid email address")))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "errors_omitted")
}
