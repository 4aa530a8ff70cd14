package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"

	"mitosis/platform/problem"
)

// maxHashWait bounds how long a request without a nearer deadline waits for
// a free hashing slot before it is told to come back.
const maxHashWait = 2 * time.Second

// ErrHashingBusy means every hashing slot stayed taken for as long as the
// request could wait: a 503 with Retry-After, not a slow answer for all.
var ErrHashingBusy = problem.WithDetail(
	fmt.Errorf("%w: every password hashing slot is taken", problem.ErrUnavailable),
	"Too many passwords are being checked at once; retry shortly.")

// Passwords hashes and checks passwords with bcrypt at a configured cost.
// Each hash keeps a CPU busy for its whole cost, so at most one runs per
// CPU (GOMAXPROCS) at a time: a flood of registrations or logins waits its
// turn, or is refused, instead of starving every other request.
type Passwords struct {
	cost  int
	slots chan struct{}
	// hash and compare are bcrypt's; a test watches them.
	hash    func(password []byte, cost int) ([]byte, error)
	compare func(hash, password []byte) error
}

// NewPasswords returns a hasher; cost is bcrypt's work factor (4..31).
func NewPasswords(cost int) (*Passwords, error) {
	return newPasswords(cost, runtime.GOMAXPROCS(0))
}

func newPasswords(cost, concurrency int) (*Passwords, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("PASSWORD_HASH_COST must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Passwords{
		cost:    cost,
		slots:   make(chan struct{}, max(concurrency, 1)),
		hash:    bcrypt.GenerateFromPassword,
		compare: bcrypt.CompareHashAndPassword,
	}, nil
}

// Hash returns the bcrypt hash of password; ErrHashingBusy if no slot
// frees up in time.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	release, err := p.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := p.hash([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// MaxPasswordBytes is bcrypt's limit: it ignores every byte past it.
const MaxPasswordBytes = 72

// Matches reports whether password matches hash, in constant time;
// ErrHashingBusy if no slot frees up in time.
func (p *Passwords) Matches(ctx context.Context, hash, password string) (bool, error) {
	release, err := p.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	// bcrypt would compare only the first 72 bytes, so the stored password
	// plus anything would log in. Compare anyway, so a too-long password
	// takes as long to refuse as a wrong one.
	ok := p.compare([]byte(hash), []byte(password)) == nil
	return ok && len(password) <= MaxPasswordBytes, nil
}

// acquire takes a hashing slot, waiting within ctx's deadline (at most
// maxHashWait).
func (p *Passwords) acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-p.slots }
	select {
	case p.slots <- struct{}{}:
		return release, nil
	default:
	}
	wait, cancel := context.WithTimeout(ctx, maxHashWait)
	defer cancel()
	select {
	case p.slots <- struct{}{}:
		return release, nil
	case <-wait.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err() // the caller left; nobody to tell
		}
		return nil, ErrHashingBusy
	}
}
