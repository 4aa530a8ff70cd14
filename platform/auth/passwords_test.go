package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/auth"
)

// TestPasswordsMatchOnlyTheWholePassword: bcrypt reads 72 bytes at most, so
// a longer password sharing them must not match.
func TestPasswordsMatchOnlyTheWholePassword(t *testing.T) {
	p, err := auth.NewPasswords(4)
	require.NoError(t, err)
	ctx := t.Context()
	password := strings.Repeat("p", auth.MaxPasswordBytes)
	hash, err := p.Hash(ctx, password)
	require.NoError(t, err)

	for candidate, want := range map[string]bool{password: true, password[1:]: false, password + "anything": false} {
		ok, err := p.Matches(ctx, hash, candidate)
		require.NoError(t, err)
		assert.Equal(t, want, ok, "%d bytes", len(candidate))
	}
}
