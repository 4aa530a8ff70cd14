// Package services answers GET /api/v1/services: every module, where it
// runs as seen from this process, its health and its dependencies.
package services

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/modules/gateway"
	"mitosis/platform/health"
	"mitosis/platform/topology"
)

// Path is the route.
const Path = "/api/v1/services"

// Health values beside health's own up and down.
const healthUnknown = "unknown"

// List describes every module. Local modules report their own checks (a
// module without any, like the gateway, is up since it answers); remote
// ones their liveness as this process's dependency checks see it; modules
// this process does not use are unknown. Remote modules also show the
// state of this process's circuit breaker for them. Check errors stay out: the route
// is public and they can name internal addresses.
func List(ctx context.Context, place topology.Placement, checks *health.Registry) gateway.ServiceList {
	rep := checks.Run(ctx)
	status := map[string]string{}
	for _, s := range rep.Modules {
		status[s.Name] = worst(status[s.Name], s.Status)
	}
	remote, breakers := map[string]string{}, map[string]string{}
	for _, s := range rep.Deps {
		remote[s.Name] = worst(remote[s.Name], s.Status)
		if s.Breaker != "" {
			breakers[s.Name] = s.Breaker
		}
	}
	out := gateway.ServiceList{Items: []gateway.ServiceInfo{}}
	for _, m := range place.Modules() {
		info := gateway.ServiceInfo{
			Name:      m.Name,
			DependsOn: append([]string{}, m.DependsOn...),
			Routes:    append([]string{}, m.Routes...),
		}
		switch {
		case place.IsLocal(m.Name):
			info.Where, info.Health = gateway.WhereLocal, "up"
			if s, ok := status[m.Name]; ok {
				info.Health = s
			}
		case place.URL(m.Name) != "":
			info.Where, info.URL, info.Health = gateway.WhereRemote, place.URL(m.Name), healthUnknown
			info.Breaker = breakers[m.Name]
			if s, ok := remote[m.Name]; ok {
				info.Health = s
			}
		default:
			info.Where, info.Health = gateway.WhereUnused, healthUnknown
		}
		out.Items = append(out.Items, info)
	}
	return out
}

// Mount serves the list, public and read-only.
func Mount(e *echo.Echo, place topology.Placement, checks *health.Registry) {
	e.GET(Path, func(c echo.Context) error {
		return c.JSON(http.StatusOK, List(c.Request().Context(), place, checks))
	})
}

func worst(a, b string) string {
	if a == "down" || b == "down" {
		return "down"
	}
	return b
}
