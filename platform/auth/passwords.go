package auth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Passwords hashes and checks passwords with bcrypt at a configured cost.
type Passwords struct{ cost int }

// NewPasswords returns a hasher; cost is bcrypt's work factor (4..31).
func NewPasswords(cost int) (*Passwords, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("PASSWORD_HASH_COST must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Passwords{cost: cost}, nil
}

// Hash returns the bcrypt hash of password.
func (p *Passwords) Hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// MaxPasswordBytes is bcrypt's limit: it ignores every byte past it.
const MaxPasswordBytes = 72

// Matches reports whether password matches hash, in constant time.
func (p *Passwords) Matches(hash, password string) bool {
	// bcrypt would compare only the first 72 bytes, so the stored password
	// plus anything would log in. Compare anyway, so a too-long password
	// takes as long to refuse as a wrong one.
	ok := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	return ok && len(password) <= MaxPasswordBytes
}
