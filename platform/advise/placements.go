package advise

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Placement is a candidate: the modules in groups, one group a process.
type Placement struct {
	Name   string     `json:"name"`
	Groups [][]string `json:"groups"`
}

// groupOf maps each module to its group's index.
func (p Placement) groupOf() map[string]int {
	out := map[string]int{}
	for i, g := range p.Groups {
		for _, m := range g {
			out[m] = i
		}
	}
	return out
}

// crosses reports whether e's calls would go over the network. A call
// from the process itself (no calling module) stays with its callee.
func crosses(group map[string]int, e Edge) bool {
	if e.Caller == "" {
		return false
	}
	gc, ok1 := group[e.Caller]
	gm, ok2 := group[e.Callee]
	return ok1 && ok2 && gc != gm
}

func (p Placement) key() string {
	var parts []string
	for _, g := range p.Groups {
		parts = append(parts, strings.Join(g, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}

func normalize(groups [][]string) [][]string {
	var out [][]string
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		g = slices.Clone(g)
		sort.Strings(g)
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Candidates are the placements the advisor weighs: the one in use, every
// module alone in a process, each module split out from the rest, and all
// in one process. The placement that separates the modules of separate at
// the least added latency is added by Advise, which can cost them.
func Candidates(s System) []Placement {
	var out []Placement
	seen := map[string]bool{}
	add := func(name string, groups [][]string) {
		p := Placement{Name: name, Groups: normalize(groups)}
		if k := p.key(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	add("in use", s.InUse)
	add("one process", [][]string{s.Modules})
	for _, m := range s.Modules {
		add(m+" alone", [][]string{{m}, without(s.Modules, m)})
	}
	var apart [][]string
	for _, m := range s.Modules {
		apart = append(apart, []string{m})
	}
	add("every module alone", apart)
	return out
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, m := range list {
		if !slices.Contains(drop, m) {
			out = append(out, m)
		}
	}
	return out
}

// SeparateError is a set of modules to separate (--separate, ?separate=)
// that names no module, too few, or too many placements to weigh.
type SeparateError struct{ Reason string }

func (e *SeparateError) Error() string { return "--separate: " + e.Reason }

// maxSearch bounds the placements Separating weighs.
const maxSearch = 1 << 16

// Separating lists the placements that put each module of separate in a
// group of its own and every other module with one of them: joining two
// groups never adds a crossing, so the cheapest placement that separates
// them is among these.
func Separating(s System, separate []string) ([]Placement, error) {
	for _, m := range separate {
		if !slices.Contains(s.Modules, m) {
			return nil, &SeparateError{fmt.Sprintf("no module %q (modules: %s)", m, strings.Join(s.Modules, ", "))}
		}
	}
	if len(separate) < 2 {
		return nil, &SeparateError{fmt.Sprintf("needs at least two modules, got %q", strings.Join(separate, ","))}
	}
	rest := without(s.Modules, separate...)
	n := 1
	for range rest {
		if n *= len(separate); n > maxSearch {
			return nil, &SeparateError{fmt.Sprintf("%d placements to weigh, more than %d", n, maxSearch)}
		}
	}
	var out []Placement
	for i := range n {
		groups := make([][]string, len(separate))
		for j, m := range separate {
			groups[j] = []string{m}
		}
		code := i
		for _, m := range rest {
			g := code % len(separate)
			code /= len(separate)
			groups[g] = append(groups[g], m)
		}
		out = append(out, Placement{Name: "separating " + strings.Join(separate, ", "), Groups: normalize(groups)})
	}
	return out, nil
}
