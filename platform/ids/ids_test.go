package ids_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"mitosis/platform/ids"
)

func TestValid(t *testing.T) {
	const id = "0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11"
	assert.True(t, ids.Valid(id))
	assert.True(t, ids.Valid("0B9A3B8E-8D7C-4D0E-9B1A-2F6F1C9D2A11"))
	for _, s := range []string{"", "urn:uuid:" + id, "{" + id + "}", "0b9a3b8e8d7c4d0e9b1a2f6f1c9d2a11", id[:35] + "z", id + " "} {
		assert.False(t, ids.Valid(s), s)
	}
}
