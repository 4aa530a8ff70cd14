// Package services answers GET /api/v1/services: every module, where it
// runs as seen from this process, its health and its dependencies.
package services

import (
	"context"

	"github.com/labstack/echo/v4"

	"mitosis/modules/gateway"
	"mitosis/platform/health"
	"mitosis/platform/topology"
)

// Path is the route.
const Path = "/api/v1/services"

// List describes every module. A local module's health is its own checks'
// (run at most once a second, whoever asks); a remote one's is the health
// monitor's last result, so a request never probes another process.
// Modules this process does not use are unknown and count for nothing.
// Nothing that names an address or an error is listed: the route is
// public.
func List(ctx context.Context, place topology.Placement, checks *health.Registry) gateway.ServiceList {
	own := map[string]string{}
	for _, m := range checks.Public(ctx).Modules {
		own[m.Name] = m.OwnStatus()
	}
	out := gateway.ServiceList{Status: health.Healthy, Items: []gateway.ServiceInfo{}}
	for _, m := range place.Modules() {
		info := gateway.ServiceInfo{
			Name:      m.Name,
			Health:    gateway.HealthUnknown,
			DependsOn: append([]string{}, m.DependsOn...),
			Routes:    append([]string{}, m.Routes...),
		}
		switch {
		case place.IsLocal(m.Name):
			info.Where, info.Health = gateway.WhereLocal, health.Healthy
			if s, ok := own[m.Name]; ok {
				info.Health = s
			}
		case place.URL(m.Name) != "":
			info.Where = gateway.WhereRemote
			if rm, ok := checks.Remote(m.Name); ok {
				info.Health, info.Breaker = remoteHealth(rm), rm.Breaker
				if !rm.CheckedAt.IsZero() {
					at := rm.CheckedAt.UTC()
					info.CheckedAt = &at
				}
			}
		default:
			info.Where = gateway.WhereUnused
		}
		if info.Where != gateway.WhereUnused {
			out.Status = health.Worse(out.Status, countAs(info.Health))
		}
		out.Items = append(out.Items, info)
	}
	return out
}

// remoteHealth: ready is healthy, unless this process's breaker keeps
// calls from it (degraded); not ready or unreachable is unhealthy.
func remoteHealth(rm health.Remote) string {
	switch rm.Status {
	case health.Up:
		if rm.Breaker != "" && rm.Breaker != "closed" {
			return health.Degraded
		}
		return health.Healthy
	case health.Down:
		return health.Unhealthy
	}
	return gateway.HealthUnknown
}

// countAs: a module not checked yet is not known to be well.
func countAs(h string) string {
	if h == gateway.HealthUnknown {
		return health.Degraded
	}
	return h
}

// Mount serves the list, public and read-only.
func Mount(e *echo.Echo, place topology.Placement, checks *health.Registry) {
	e.GET(Path, func(c echo.Context) error {
		list := List(c.Request().Context(), place, checks)
		return c.JSON(health.StatusCode(list.Status), list)
	})
}
