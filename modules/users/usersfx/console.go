package usersfx

import (
	"go.uber.org/fx"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/httpapi"
	"mitosis/platform/admin"
	"mitosis/platform/console"
)

// consoleLogin is what the console's login needs; the admin parts are
// optional.
type consoleLogin struct {
	fx.In
	Users  users.Service
	Server *admin.Server   `optional:"true"`
	Access *console.Access `optional:"true"`
}

// mountConsoleLogin serves the console's login wherever users runs or is
// called (httpapi.MountConsole). A process assembled without an admin
// listener (a test's bare clients) has no console to log into.
func mountConsoleLogin(in consoleLogin) {
	if in.Server == nil || in.Access == nil {
		return
	}
	httpapi.MountConsole(in.Server, in.Users, in.Access)
}
