package users_test

import (
	"testing"

	"mitosis/modules/modulestest"
	"mitosis/modules/users/userstest"
	"mitosis/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// payments runs beside users: it subscribes to user.registered.
func TestContract(t *testing.T) {
	modulestest.Contract(t, "users", map[string]string{"SERVICES": "users,payments"}, userstest.Run)
}
