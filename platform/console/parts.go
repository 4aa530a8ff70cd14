package console

import (
	"fmt"
	"slices"
)

// Parts is the registry of what the console gathers: each name is an admin
// route, GET /admin/v1/<name>, that /admin/v1/system/<name> asks of every
// process. The platform names its own (those every process serves); each
// module declares its own in its spec (topology.Spec.AdminParts), and every
// process knows them whether or not the module runs there, so the console
// of any process shows the whole deployment. A name not registered is
// refused: the route is no open proxy.
type Parts struct{ names []string }

// NewParts registers names: each one path segment of lower-case letters,
// digits and dashes, and each once (a module cannot take over a part of
// the platform's or of another module).
func NewParts(names ...string) (*Parts, error) {
	p := &Parts{}
	for _, n := range names {
		if !partName(n) {
			return nil, fmt.Errorf("console part %q: want one path segment of a-z, 0-9 and -", n)
		}
		if slices.Contains(p.names, n) {
			return nil, fmt.Errorf("console part %q is registered twice", n)
		}
		p.names = append(p.names, n)
	}
	slices.Sort(p.names)
	return p, nil
}

// Has reports whether name is registered.
func (p *Parts) Has(name string) bool {
	_, found := slices.BinarySearch(p.names, name)
	return found
}

// Names lists the registered parts, sorted.
func (p *Parts) Names() []string { return slices.Clone(p.names) }

func partName(n string) bool {
	if n == "" || n[0] == '-' {
		return false
	}
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}
