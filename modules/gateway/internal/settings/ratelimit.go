package settings

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// RateLimit is the limit of one route group at the gateway.
type RateLimit struct {
	// Prefix selects the group's routes; the longest matching prefix wins.
	Prefix string `yaml:"prefix"`
	// Method, if set, limits the group to requests of that method.
	Method string `yaml:"method,omitempty"`
	// Limit is "<n>/<period> [burst <b>]" or "off"; see ParseRate.
	Limit string `yaml:"limit"`
}

// Rate is a parsed limit: Events per Per, in bursts of up to Burst.
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
	Off    bool
}

// ParseRate reads "20/s burst 40", "5/m", "100/10s burst 20" or "off". The
// period is s, m, h or a duration; the burst defaults to the events.
func ParseRate(s string) (Rate, error) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 1 && fields[0] == "off" {
		return Rate{Off: true}, nil
	}
	bad := fmt.Errorf("rate %q: want <n>/<period> [burst <b>], like 20/s burst 40, or off", s)
	if len(fields) != 1 && (len(fields) != 3 || fields[1] != "burst") {
		return Rate{}, bad
	}
	n, period, ok := strings.Cut(fields[0], "/")
	if !ok {
		return Rate{}, bad
	}
	var r Rate
	var err error
	if r.Events, err = strconv.Atoi(n); err != nil || r.Events < 1 {
		return Rate{}, bad
	}
	switch period {
	case "s", "m", "h":
		period = "1" + period
	}
	if r.Per, err = time.ParseDuration(period); err != nil || r.Per <= 0 {
		return Rate{}, bad
	}
	r.Burst = r.Events
	if len(fields) == 3 {
		if r.Burst, err = strconv.Atoi(fields[2]); err != nil || r.Burst < 1 {
			return Rate{}, bad
		}
	}
	return r, nil
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
