package settings

import (
	"fmt"
	"net"
	"strings"
)

// RateLimit is the limit of one route group at the gateway.
type RateLimit struct {
	// Prefix selects the group's routes; the longest matching prefix wins.
	Prefix string `yaml:"prefix"`
	// Method, if set, limits the group to requests of that method.
	Method string `yaml:"method,omitempty"`
	// Limit is "<n>/<period> [burst <b>]" or "off"; see throttle.ParseRate.
	Limit string `yaml:"limit"`
}

// TrustedNets parses GATEWAY_TRUSTED_PROXIES: the networks of the proxies
// in front (load balancers) whose X-Forwarded-* headers are believed.
func TrustedNets(list []string) ([]*net.IPNet, error) {
	nets := make([]*net.IPNet, 0, len(list))
	for _, raw := range list {
		_, n, err := net.ParseCIDR(AsCIDR(raw))
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", raw, err)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// AsCIDR turns a bare IP into its one-address CIDR.
func AsCIDR(s string) string {
	if strings.Contains(s, "/") {
		return s
	}
	if strings.Contains(s, ":") {
		return s + "/128"
	}
	return s + "/32"
}
