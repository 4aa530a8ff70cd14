package advise

import (
	"fmt"
	"net"
	"net/url"
)

// loopbackTarget checks a probe's target: only a server on this host's
// loopback, so the admin route cannot be made to call anywhere else.
func loopbackTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("target must be http://127.0.0.1:<port>, got %q", target)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("target must be on loopback, got %q", target)
	}
	return nil
}

// OnLoopback reports whether base (an admin URL) is on this host's loopback.
func OnLoopback(base string) bool {
	u, err := url.Parse(base)
	return err == nil && loopbackTarget(u.Scheme+"://"+u.Host) == nil
}
