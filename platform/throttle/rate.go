// Package throttle limits how often a caller may do something: a token
// bucket per key (a client IP, a user), in memory, with the rate written
// as "5/m burst 5". The gateway limits the public routes with it, and the
// users module the console's admin login.
package throttle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
