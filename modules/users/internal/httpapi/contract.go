package httpapi

import (
	"context"

	"mitosis/modules/users"
	"mitosis/platform/contract"
)

// API declares each method of users.Service once: its internal route, and
// whether a failed call may be sent again.
var API = contract.Define("users", users.Errors, func(s contract.Stub[users.Service]) users.Service { return stub{s} })

var (
	// Register is never repeated: a lost answer after the user was stored
	// would make the repeat fail as email_taken.
	register = contract.Unsafe(API, users.Service.Register)
	// Authenticate stores nothing, so it is repeated like a read.
	authenticate = contract.Read(API, users.Service.Authenticate)
	get          = contract.Read(API, users.Service.Get)
	// Refresh is never repeated: the first attempt may have rotated the
	// token, and presenting it again revokes its family.
	refresh = contract.Unsafe(API, users.Service.Refresh)
	// Revoking twice revokes once.
	logout = contract.Idempotent(API, users.Service.Logout)
	list   = contract.Read(API, users.Service.List)
)

// stub is users.Service as its callers hold it: in-process (counted, one
// interface call from the implementation) or over HTTP.
type stub struct{ contract.Stub[users.Service] }

var _ users.Service = stub{}

func (s stub) Register(ctx context.Context, in users.RegisterRequest) (out users.User, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Register(ctx, in)
		return out, contract.Done(s.Stub, register, err)
	}
	return contract.Call(s.Stub, register, ctx, in)
}

func (s stub) Authenticate(ctx context.Context, in users.Credentials) (out users.Token, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Authenticate(ctx, in)
		return out, contract.Done(s.Stub, authenticate, err)
	}
	return contract.Call(s.Stub, authenticate, ctx, in)
}

func (s stub) Get(ctx context.Context, in users.GetRequest) (out users.User, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Get(ctx, in)
		return out, contract.Done(s.Stub, get, err)
	}
	return contract.Call(s.Stub, get, ctx, in)
}

func (s stub) Refresh(ctx context.Context, in users.RefreshRequest) (out users.Token, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Refresh(ctx, in)
		return out, contract.Done(s.Stub, refresh, err)
	}
	return contract.Call(s.Stub, refresh, ctx, in)
}

func (s stub) Logout(ctx context.Context, in users.RefreshRequest) (out users.LoggedOut, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.Logout(ctx, in)
		return out, contract.Done(s.Stub, logout, err)
	}
	return contract.Call(s.Stub, logout, ctx, in)
}

func (s stub) List(ctx context.Context, in users.ListUsersRequest) (out users.UserPage, err error) {
	if impl, ok := s.Local(); ok {
		out, err = impl.List(ctx, in)
		return out, contract.Done(s.Stub, list, err)
	}
	return contract.Call(s.Stub, list, ctx, in)
}
