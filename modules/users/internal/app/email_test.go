package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCanonicalEmail(t *testing.T) {
	for typed, want := range map[string]string{
		"ivan@example.com":           "ivan@example.com",
		"IVAN@Example.COM":           "ivan@example.com",
		"\u212Aim@example.com":       "kim@example.com",  // Kelvin sign
		"ｉｖａｎ@example.com":           "ivan@example.com", // full-width letters
		"ivan@ｅｘａｍｐｌｅ.com":           "ivan@example.com",
		"İvan@example.com":           "i\u0307van@example.com", // not ivan: another letter
		"Straße@example.com":         "strasse@example.com",
		"ivan@bücher.example":        "ivan@xn--bcher-kva.example",
		"ivan@BÜCHER.example":        "ivan@xn--bcher-kva.example",
		"ivan@xn--bcher-kva.example": "ivan@xn--bcher-kva.example",
		"ΣΟΦΙΑ@example.com":          "σοφια@example.com",
	} {
		assert.Equal(t, want, CanonicalEmail(typed), typed)
	}
	assert.NotEqual(t, CanonicalEmail("İvan@example.com"), CanonicalEmail("ivan@example.com"))
}

func TestEmailProblems(t *testing.T) {
	for _, ok := range []string{
		"ivan@example.com", "İvan@example.com", "иван@example.com", "σοφια@example.com", "山田たろう@example.jp",
		"ivan@bücher.example", "ｉｖａｎ@example.com", "o'brien+tag@example.com", "jan.novak@example.cz",
	} {
		assert.Empty(t, emailProblem(ok), ok)
	}
	for typed, want := range map[string]string{
		"zw\u200dj@example.com":        "invisible", // zero-width joiner
		"zw\u200bsp@example.com":       "invisible", // zero-width space
		"rtl\u202eevil@example.com":    "invisible", // right-to-left override
		"soft\u00adhyphen@example.com": "invisible", // soft hyphen
		"ivan@exa\u200dmple.com":       "invisible",
		"\u0456van@example.com":        "mix scripts", // Cyrillic і, Latin van
		"p\u0430ypal@example.com":      "mix scripts", // Cyrillic а
		"ivan\u03bf@example.com":       "mix scripts", // Greek ο
		"a＠b@example.com":              "valid email", // NFKC makes it a@b
		"ivan@-bad-.example":           "domain",
		"not-an-email":                 "valid email",
	} {
		assert.Contains(t, emailProblem(typed), want, typed)
	}
}
