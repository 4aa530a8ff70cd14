package topology

import (
	"slices"
	"sort"
	"strings"
)

// Owner is the module a request path belongs to, wherever that module
// runs: the module named by an /internal/<module>/ path, or the one whose
// public route prefix holds the path (the longest, a ":name" segment
// matching any one); "" for anything else (health, documents, an unknown
// path or module). Logs and metrics name requests by it.
func (p Placement) Owner(path string) string {
	if rest, ok := strings.CutPrefix(path, "/internal/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		for _, m := range p.modules {
			if m.Name == name {
				return name
			}
		}
		return ""
	}
	owner, longest := "", 0
	for _, m := range p.modules {
		for _, r := range m.Routes {
			if n := prefixSegments(r, path); n > longest {
				owner, longest = m.Name, n
			}
		}
	}
	return owner
}

// prefixSegments is the number of segments of route when path starts with
// them, 0 otherwise.
func prefixSegments(route, path string) int {
	want := strings.Split(strings.Trim(route, "/"), "/")
	rest := strings.TrimPrefix(path, "/")
	for _, w := range want {
		got, tail, _ := strings.Cut(rest, "/")
		if got != w && !(strings.HasPrefix(w, ":") && got != "") {
			return 0
		}
		rest = tail
	}
	return len(want)
}

// Audience lists the modules subscribed to any event type module
// publishes: the subscribers of its outbox, sorted.
func (p Placement) Audience(module string) []string {
	var out []string
	for _, m := range p.modules {
		if m.Name != module {
			continue
		}
		for _, typ := range m.Publishes {
			for _, sub := range p.subscribers[typ] {
				if !slices.Contains(out, sub) {
					out = append(out, sub)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
