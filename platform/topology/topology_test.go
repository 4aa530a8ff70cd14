package topology_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/platform/config"
	"mitosis/platform/topology"
)

var specs = []topology.Spec{
	{Name: "users"},
	{Name: "payments"},
	{Name: "orders", DependsOn: []string{"users", "payments"}},
}

func cfg(services []string, urls map[string]string) config.Config {
	c := config.Config{Services: services, Modules: map[string]config.Module{}}
	for name, u := range urls {
		c.Modules[name] = config.Module{URL: u}
	}
	return c
}

func TestAllLocalByDefault(t *testing.T) {
	p, err := topology.Plan(specs, cfg(nil, nil))
	require.NoError(t, err)
	for _, name := range []string{"users", "payments", "orders"} {
		assert.True(t, p.IsLocal(name))
	}
	assert.Empty(t, p.Remote())
}

func TestLocalWinsOverAConfiguredURL(t *testing.T) {
	p, err := topology.Plan(specs, cfg(nil, map[string]string{"users": "http://elsewhere"}))
	require.NoError(t, err)
	assert.True(t, p.IsLocal("users"))
	assert.Empty(t, p.URL("users"))
}

func TestSplitUsesURLs(t *testing.T) {
	p, err := topology.Plan(specs, cfg([]string{"orders"}, map[string]string{"users": "http://u:8080/", "payments": "http://p:8080"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, p.Local())
	assert.Equal(t, "http://u:8080", p.URL("users"), "trailing slash trimmed")
	assert.Equal(t, []string{"payments", "users"}, p.Remote())
}

func TestUnknownServiceIsNamed(t *testing.T) {
	_, err := topology.Plan(specs, cfg([]string{"orders", "bogus"}, nil))
	require.ErrorContains(t, err, "bogus")
}

func TestEveryMissingDependencyIsNamedAtOnce(t *testing.T) {
	_, err := topology.Plan(specs, cfg([]string{"orders"}, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "users")
	assert.Contains(t, err.Error(), "payments")
	assert.Contains(t, err.Error(), "USERS_URL")
}

func TestModulesWithoutDependenciesNeedNoURLs(t *testing.T) {
	p, err := topology.Plan(specs, cfg([]string{"payments"}, nil))
	require.NoError(t, err)
	assert.False(t, p.IsLocal("orders"))
}

var eventSpecs = []topology.Spec{
	{Name: "users", Publishes: []string{"user.registered"}, Subscribes: []string{"order.confirmed"}},
	{Name: "payments", Subscribes: []string{"user.registered"}},
	{Name: "orders", Publishes: []string{"order.confirmed"}},
}

func TestARemoteSubscriberOfALocalPublisherNeedsAURL(t *testing.T) {
	_, err := topology.Plan(eventSpecs, cfg([]string{"users"}, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "payments (needed by users's user.registered; set PAYMENTS_URL)")

	p, err := topology.Plan(eventSpecs, cfg([]string{"users"}, map[string]string{"payments": "http://p:8080"}))
	require.NoError(t, err)
	assert.Equal(t, "http://p:8080", p.URL("payments"))
	assert.Empty(t, p.Remote(), "an events-only peer gets no contract client")
	assert.Equal(t, []string{"payments"}, p.SubscribersOf("user.registered"))
}

func TestWithABrokerARemoteSubscriberNeedsNoURL(t *testing.T) {
	c := cfg([]string{"users"}, nil)
	c.Events.Broker = config.BrokerNATS
	p, err := topology.Plan(eventSpecs, c)
	require.NoError(t, err)
	assert.Empty(t, p.URL("payments"))
	assert.Equal(t, []string{"payments"}, p.SubscribersOf("user.registered"))
}

func TestSubscribersWithoutLocalPublishersNeedNoURLs(t *testing.T) {
	p, err := topology.Plan(eventSpecs, cfg([]string{"payments"}, nil))
	require.NoError(t, err)
	assert.Empty(t, p.URL("users"))
}

func TestOwnerNamesTheModuleOfAPath(t *testing.T) {
	specs := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users", "/api/v1/auth"}},
		{Name: "orders", Routes: []string{"/api/v1/orders"}},
		{Name: "details", Routes: []string{"/api/v1/orders/:id/details"}},
	}
	p, err := topology.Plan(specs, config.Config{Services: []string{"orders"}, Modules: map[string]config.Module{
		"users": {URL: "http://u"}, "details": {URL: "http://d"}}})
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/api/v1/users":                "users",
		"/api/v1/users/me":             "users",
		"/api/v1/usersx":               "",
		"/api/v1/orders/42":            "orders",
		"/api/v1/orders/42/details":    "details",
		"/internal/orders/place-order": "orders",
		"/internal/payments/charge":    "",
		"/internal/users/get":          "users",
		"/health":                      "",
		"/":                            "",
	} {
		assert.Equal(t, want, p.Owner(path), path)
	}
}

func TestAudienceListsTheSubscribersOfAModulesEvents(t *testing.T) {
	specs := []topology.Spec{
		{Name: "users", Publishes: []string{"user.registered"}, Subscribes: []string{"order.confirmed"}},
		{Name: "payments", Publishes: []string{"payment.captured"}, Subscribes: []string{"user.registered"}},
		{Name: "orders", Publishes: []string{"order.confirmed"}},
		{Name: "stats", Subscribes: []string{"order.confirmed", "user.registered"}},
	}
	p, err := topology.Plan(specs, config.Config{Services: []string{"stats"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"payments", "stats"}, p.Audience("users"))
	assert.Equal(t, []string{"stats", "users"}, p.Audience("orders"))
	assert.Empty(t, p.Audience("payments"))
}

// A proxy fronts every module with public routes it has an address for,
// beyond those it calls; a module it has none for stays unused, and one
// without routes is not fronted.
func TestProxyFrontsEveryModuleWithAnAddress(t *testing.T) {
	specs := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users"}},
		{Name: "shelf", Routes: []string{"/api/v1/shelf"}},
		{Name: "quiet"},
		{Name: "attic", Routes: []string{"/api/v1/attic"}},
		{Name: "edge", DependsOn: []string{"users"}, Proxies: true, Stateless: true},
	}
	p, err := topology.Plan(specs, cfg([]string{"edge"}, map[string]string{
		"users": "http://users:8080", "shelf": "http://shelf:8080/", "quiet": "http://quiet:8080"}))
	require.NoError(t, err)
	assert.Equal(t, "http://shelf:8080", p.URL("shelf"))
	assert.Empty(t, p.URL("quiet"), "no public routes to front")
	assert.Empty(t, p.URL("attic"), "no address: unused")
	assert.Equal(t, []string{"shelf", "users"}, p.Remote())
}

// SERVICES=-a,-b runs every module but those, in the specs' order: the
// process of the rest, which runs a module added since with no edit.
func TestLeavingModulesOutRunsTheRest(t *testing.T) {
	p, err := topology.Plan(specs, cfg([]string{"-users"}, map[string]string{"users": "http://users:8080"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"payments", "orders"}, p.Local())
	assert.Equal(t, "http://users:8080", p.URL("users"))

	for services, want := range map[string][]string{
		"-users,orders":            {"SERVICES mixes modules to run (orders) and to leave out (-users)"},
		"-users,-payments,-orders": {"SERVICES leaves out every module (-users, -payments, -orders)"},
		"-bogus":                   {"SERVICES names unknown module(s) bogus; known: users, payments, orders"},
	} {
		_, err := topology.Plan(specs, cfg(strings.Split(services, ","), nil))
		for _, w := range want {
			require.ErrorContains(t, err, w, services)
		}
	}
}

// OTHER_MODULES_URL is the address of every module without one of its
// own, so a caller finds a module added since in the process of the rest;
// a proxy fronts each such module with public routes.
func TestOtherModulesURLFindsTheRest(t *testing.T) {
	c := cfg([]string{"orders"}, map[string]string{"users": "http://users:8080"})
	c.OtherModulesURL = "http://others:8080/"
	p, err := topology.Plan(specs, c)
	require.NoError(t, err)
	assert.Equal(t, "http://users:8080", p.URL("users"))
	assert.Equal(t, "http://others:8080", p.URL("payments"))

	front := []topology.Spec{
		{Name: "users", Routes: []string{"/api/v1/users"}},
		{Name: "shelf", Routes: []string{"/api/v1/shelf"}},
		{Name: "edge", DependsOn: []string{"users"}, Proxies: true, Stateless: true},
	}
	c = cfg([]string{"edge"}, map[string]string{"users": "http://users:8080"})
	c.OtherModulesURL = "http://others:8080"
	p, err = topology.Plan(front, c)
	require.NoError(t, err)
	assert.Equal(t, []string{"shelf", "users"}, p.Remote())
	assert.Equal(t, "http://others:8080", p.URL("shelf"))

	// The process of the rest is where OTHER_MODULES_URL leads: what it
	// leaves out and calls needs a URL of its own.
	c = cfg([]string{"-users"}, nil)
	c.OtherModulesURL = "http://others:8080"
	_, err = topology.Plan(specs, c)
	require.ErrorContains(t, err, "module neither local nor configured: users (needed by orders; set USERS_URL)")
}
