package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/modules/orders/internal/app"
	"mitosis/platform/admin"
	"mitosis/platform/console"
)

// SagasPart is the console's part this serves (GET /admin/v1/sagas), which
// the module declares in its spec so every process's console gathers it.
const SagasPart = "sagas"

// runningShown bounds the running sagas the console lists.
const runningShown = 100

// MountSagas serves the console's view of the order sagas on the admin
// listener of the process that runs orders.
func MountSagas(s *admin.Server, svc *app.Service, access *console.Access) {
	s.Handle(http.MethodGet, admin.Prefix+"/"+SagasPart, "Order sagas: counts by state, and those in flight or compensating with their steps",
		access.Read(func(c echo.Context) error {
			counts, running, err := svc.SagaOverview(c.Request().Context(), runningShown)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, map[string]any{"module": "orders", "counts": counts, "running": running})
		}))
}
