package users_test

import (
	"testing"

	"mitosis/modules/modulestest"
	"mitosis/modules/users"
	"mitosis/modules/users/userstest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// payments runs beside users: it subscribes to user.registered.
func TestContract(t *testing.T) {
	var local users.Service
	p := modulestest.Start(t, map[string]string{"SERVICES": "users,payments"}, &local)

	t.Run("in-process", func(t *testing.T) { userstest.Run(t, local) })
	t.Run("in-process strict", func(t *testing.T) {
		var strict users.Service
		modulestest.Start(t, map[string]string{"SERVICES": "users,payments", "LOCAL_CALLS": "strict"}, &strict)
		userstest.Run(t, strict)
	})
	t.Run("http", func(t *testing.T) {
		var remote users.Service
		modulestest.Clients(t, map[string]string{"users": p.URL}, &remote)
		userstest.Run(t, remote)
	})
}
