package usersfx

import (
	"go.uber.org/fx"

	"mitosis/modules/users"
	"mitosis/modules/users/internal/httpapi"
	"mitosis/platform/admin"
	"mitosis/platform/config"
	"mitosis/platform/console"
)

// consoleLogin is what the console's login needs; the admin parts are
// optional.
type consoleLogin struct {
	fx.In
	Users  users.Service
	Config config.Config
	Server *admin.Server   `optional:"true"`
	Access *console.Access `optional:"true"`
}

// mountConsoleLogin serves the console's login wherever users runs or is
// called (httpapi.MountConsole), limited by USERS_CONSOLE_LOGIN_LIMIT in
// that process. A process assembled without an admin listener (a test's
// bare clients) has no console to log into.
func mountConsoleLogin(in consoleLogin) error {
	if in.Server == nil || in.Access == nil {
		return nil
	}
	logins, err := config.SectionOf[httpapi.Settings](in.Config, "users").LoginBuckets()
	if err != nil {
		return err
	}
	httpapi.MountConsole(in.Server, in.Users, in.Access, logins)
	return nil
}
