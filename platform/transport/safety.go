package transport

// Safety says whether a call may be sent again after a failure. Every
// remote client declares it per method; the zero value is Unsafe, so a call
// that declares nothing is never repeated.
type Safety int

const (
	// Unsafe calls are attempted once: repeating them could act twice
	// (a write without an idempotency key).
	Unsafe Safety = iota
	// Read calls change nothing, so repeating them is harmless.
	Read
	// Idempotent writes have the same effect however often they arrive:
	// naturally (a refund happens once per payment) or through a key.
	Idempotent
)

// Keyed classifies a write that is idempotent only when it carries a key:
// with one the callee deduplicates it, without one it is Unsafe.
func Keyed(idempotencyKey string) Safety {
	if idempotencyKey == "" {
		return Unsafe
	}
	return Idempotent
}

// repeatable reports whether a failed call may be sent again.
func (s Safety) repeatable() bool { return s == Read || s == Idempotent }

func (s Safety) String() string {
	switch s {
	case Read:
		return "read"
	case Idempotent:
		return "idempotent"
	default:
		return "unsafe"
	}
}
