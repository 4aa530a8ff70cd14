// Package ids checks the identifiers clients send.
package ids

import "github.com/google/uuid"

// Valid reports whether s is a UUID in its canonical 36-character form.
// uuid.Validate also takes the urn:uuid:, braced and undashed forms, and
// PostgreSQL refuses some of them: an id from a client must be canonical,
// so a strange one is "not found" and never a database error.
func Valid(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }
