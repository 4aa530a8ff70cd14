package telemetry

import "context"

// RequestScope is what a server learns of a request as its middleware
// runs: where it is handled (its Hop), the module whose route it took, its
// id, and the module that called it. The server puts one in the request's
// context before anything else, and its middleware fills it in before the
// handler runs; from then on it is only read. One value for the four,
// where each would take a context of its own and a copy of the request to
// carry it, is nine allocations fewer on every request (chi keeps its
// routing state in the context the same way).
//
// HopFrom, logging.Module, transport.RequestID and auth.Caller read it
// when the context holds no value of their own: one set with WithHop,
// logging.WithModule, transport.WithRequestID (as a job or a test does)
// comes first.
type RequestScope struct {
	Hop       Hop
	Module    string
	RequestID string
	Caller    string
}

type scopeKey struct{}

// WithScope returns ctx carrying s.
func WithScope(ctx context.Context, s *RequestScope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFrom returns the request's scope, or nil outside a served request.
func ScopeFrom(ctx context.Context) *RequestScope {
	s, _ := ctx.Value(scopeKey{}).(*RequestScope)
	return s
}
