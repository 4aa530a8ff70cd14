package app

import (
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Two addresses are the same account when their canonical forms are equal:
// the local part in Unicode NFKC with full case folding (so the Kelvin sign
// is a k, full-width letters are their plain forms, and case never counts),
// the domain through IDNA (UTS #46) to ASCII (bücher.example is
// xn--bcher-kva.example). The form is computed here, in Go, never by the
// database, whose lower() depends on its locale; it is stored beside the
// address as typed, which is what the user sees.
//
// By these rules İvan@example.com is not ivan@example.com: İ (capital I
// with a dot) folds to i followed by a combining dot above, a different
// letter. Each can register, and each logs in to its own account. What
// would pass for another address unseen is refused instead: invisible
// characters anywhere, and local parts mixing scripts (a Cyrillic і among
// Latin letters).

// CanonicalEmail is the form uniqueness and login compare. It never fails:
// logins and existing rows need a form even for addresses registration
// refuses (a domain IDNA rejects is only lowercased).
func CanonicalEmail(email string) string {
	local, domain := splitEmail(email)
	local = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(local)))
	if ascii, err := idna.Lookup.ToASCII(domain); err == nil {
		domain = ascii
	} else {
		domain = strings.ToLower(domain)
	}
	return local + "@" + domain
}

// splitEmail cuts an address at its last @: a quoted local part may hold
// one, a domain never.
func splitEmail(email string) (local, domain string) {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return email, ""
	}
	return email[:i], email[i+1:]
}

// emailProblem says why email cannot register, or "" if it can.
func emailProblem(email string) string {
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return "must be a valid email address"
	}
	for _, r := range email {
		if invisible(r) {
			return "must not contain invisible characters (zero-width, formatting or direction marks)"
		}
	}
	local, domain := splitEmail(email)
	if _, err := idna.Lookup.ToASCII(domain); err != nil {
		return "must have a valid domain"
	}
	if mixedScripts(norm.NFKC.String(local)) {
		return "must not mix scripts (such as Latin and Cyrillic) before the @"
	}
	// The canonical form must itself be an address: NFKC turns a full-width
	// ＠ into @, for one.
	canonical := CanonicalEmail(email)
	if addr, err := mail.ParseAddress(canonical); err != nil || addr.Address != canonical {
		return "must be a valid email address"
	}
	return ""
}

// invisible reports a character that shows nothing, or changes how others
// show, so that two different addresses would look alike.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Variation_Selector,
		unicode.Other_Default_Ignorable_Code_Point) ||
		(unicode.Is(unicode.Zs, r) && r != ' ') || r == '\u2800' // braille blank
}

// mixedScripts reports a local part whose letters come from scripts that
// are not written together. Common and inherited characters (digits,
// punctuation, combining marks) belong to any script; Han with the Japanese
// kana, Bopomofo or Hangul, and Latin with those, are written together (the
// combinations Unicode's "highly restrictive" profile allows, UTS #39).
func mixedScripts(local string) bool {
	seen := map[string]bool{}
	for _, r := range local {
		if r < 0x80 {
			if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				seen["Latin"] = true
			}
			continue
		}
		if unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		for name, table := range unicode.Scripts {
			if unicode.Is(table, r) {
				seen[name] = true
				break
			}
		}
	}
	if len(seen) <= 1 {
		return false
	}
	for _, allowed := range [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"},
		{"Latin", "Han", "Bopomofo"},
		{"Latin", "Han", "Hangul"},
	} {
		n := 0
		for _, s := range allowed {
			if seen[s] {
				n++
			}
		}
		if n == len(seen) {
			return false
		}
	}
	return true
}
