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
	password := strings.Repeat("p", auth.MaxPasswordBytes)
	hash, err := p.Hash(password)
	require.NoError(t, err)

	assert.True(t, p.Matches(hash, password))
	assert.False(t, p.Matches(hash, password[1:]))
	assert.False(t, p.Matches(hash, password+"anything"), "bytes past 72 are not ignored")
}
