// Package gateway is the contract of the gateway module: the public entry
// point. It serves every public route, in-process for the modules of its own
// process and through a reverse proxy for the others, composes answers from
// several modules, lists where every module runs, and applies rate limits.
//
// No module calls the gateway, so it has no Service interface; this file
// holds what it answers with and the errors it adds.
package gateway

import (
	"net/http"
	"time"

	"mitosis/modules/orders"
	"mitosis/modules/payments"
	"mitosis/modules/users"
	"mitosis/platform/problem"
	"mitosis/platform/throttle"
)

// Name is the gateway's module name (SERVICES=gateway).
const Name = "gateway"

// OrderDetails is the answer of GET /api/v1/orders/{id}/details: the order,
// its customer and its payment. A part that could not be fetched is null and
// listed in Failures; the order itself is never missing.
type OrderDetails struct {
	Order    orders.Order      `json:"order"`
	Customer *users.User       `json:"customer"`
	Payment  *payments.Payment `json:"payment"`
	Failures []PartFailure     `json:"failures"`
}

// Parts of OrderDetails that may fail on their own.
const (
	PartCustomer = "customer"
	PartPayment  = "payment"
)

// PartFailure says why one part of a composed answer is missing.
type PartFailure struct {
	Part   string `json:"part"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// Where a module runs, as seen by the answering process.
const (
	WhereLocal  = "local"
	WhereRemote = "remote"
	WhereUnused = "not used"
)

// Health of a module in GET /api/v1/services, beside health's healthy,
// degraded and unhealthy.
const HealthUnknown = "unknown"

// ServiceInfo describes one module in GET /api/v1/services. It names no
// address and no error: the route is public; the admin listener has them.
type ServiceInfo struct {
	Name string `json:"name"`
	// Where is local, remote or not used.
	Where string `json:"where"`
	// Health is healthy, degraded or unhealthy: a local module's own
	// checks, a remote one's readiness as the health monitor last saw it
	// (degraded while this process's breaker for it is not closed);
	// unknown before the first check, or for a module not used here.
	Health string `json:"health"`
	// Breaker is this process's circuit breaker for a remote module:
	// closed, open or half-open.
	Breaker string `json:"breaker,omitempty"`
	// CheckedAt is when the monitor last checked a remote module.
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	DependsOn []string   `json:"depends_on"`
	Routes    []string   `json:"routes"`
}

// ServiceList is the answer of GET /api/v1/services: 503 when a module is
// unhealthy, 202 when one is degraded or not checked yet, else 200.
type ServiceList struct {
	// Status is the worst of the modules': healthy, degraded or unhealthy.
	Status string        `json:"status"`
	Items  []ServiceInfo `json:"items"`
}

// Errors of the gateway.
var (
	// ErrModuleUnavailable means the module behind a route cannot be reached.
	ErrModuleUnavailable = problem.New("gateway.module_unavailable", http.StatusServiceUnavailable, "Module unavailable")
	// ErrBadGateway means the module behind a route did not answer properly
	// in time.
	ErrBadGateway = problem.New("gateway.bad_gateway", http.StatusBadGateway, "Module did not answer")
	// ErrRateLimited means the caller exceeded its request rate: the
	// platform's, which the console's login answers too.
	ErrRateLimited = throttle.ErrRateLimited
)
