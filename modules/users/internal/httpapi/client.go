package httpapi

import (
	"context"
	"net/http"

	"mitosis/modules/users"
	"mitosis/platform/transport"
)

// Client is users.Service over HTTP, for processes where users runs elsewhere.
type Client struct{ c *transport.Client }

var _ users.Service = (*Client)(nil)

// NewClient wraps a transport client pointed at the users module.
func NewClient(c *transport.Client) *Client { return &Client{c: c} }

// Register calls Register remotely. It is never repeated: a lost answer
// after the user was stored would make the repeat fail as email_taken.
func (cl *Client) Register(ctx context.Context, in users.RegisterRequest) (users.User, error) {
	return transport.Invoke[users.User](ctx, cl.c, transport.Unsafe, http.MethodPost, internalRegister, in)
}

// Authenticate calls Authenticate remotely; it stores nothing, so it is
// repeated like a read.
func (cl *Client) Authenticate(ctx context.Context, in users.Credentials) (users.Token, error) {
	return transport.Invoke[users.Token](ctx, cl.c, transport.Read, http.MethodPost, internalAuthenticate, in)
}

// Get calls Get remotely.
func (cl *Client) Get(ctx context.Context, in users.GetRequest) (users.User, error) {
	return transport.Invoke[users.User](ctx, cl.c, transport.Read, http.MethodPost, internalGet, in)
}

// Refresh calls Refresh remotely. It is never repeated: the first attempt
// may have rotated the token, and presenting it again revokes its family.
func (cl *Client) Refresh(ctx context.Context, in users.RefreshRequest) (users.Token, error) {
	return transport.Invoke[users.Token](ctx, cl.c, transport.Unsafe, http.MethodPost, internalRefresh, in)
}

// Logout calls Logout remotely; revoking twice revokes once, so it is
// repeated.
func (cl *Client) Logout(ctx context.Context, in users.RefreshRequest) (users.LoggedOut, error) {
	return transport.Invoke[users.LoggedOut](ctx, cl.c, transport.Idempotent, http.MethodPost, internalLogout, in)
}

// List calls List remotely.
func (cl *Client) List(ctx context.Context, in users.ListUsersRequest) (users.UserPage, error) {
	return transport.Invoke[users.UserPage](ctx, cl.c, transport.Read, http.MethodPost, internalList, in)
}
