package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"mitosis/platform/problem"
)

// Limits on the shape of a request body, far beyond what any request of
// this API needs: past them, decoding would cost many times the body's size
// (encoding/json grows a slice element by element, and allocates for each
// element it cannot decode).
const (
	// MaxDepth is how deeply arrays and objects may nest.
	MaxDepth = 64
	// MaxElements is how many elements one array may hold.
	MaxElements = 10_000
	// MaxMembers is how many members one object may hold.
	MaxMembers = 1_000
)

// scan refuses what encoding/json would silently accept: a member named
// twice in one object (json keeps the last, another parser the first), also
// when the names differ only in case, and a string holding a NUL character
// (PostgreSQL text cannot store it). It also enforces MaxDepth, MaxElements
// and MaxMembers. Errors name the member by its path, like items[0].sku.
// Syntax errors are left to the decoder, which reports them.
//
// It reads raw once, in place: the only state is one frame per open array
// or object (at most MaxDepth) and, for an open object of more than a few
// members, a map of their names, so a hostile body costs little more than
// its own size.
func scan(raw []byte) error {
	s := scanners.Get().(*scanner)
	defer s.release()
	s.raw = raw
	if err := s.value(); err != nil && err != errSyntax {
		return err
	}
	return nil
}

// scanners keep their stacks from scan to scan (the compiler cannot keep
// one on the goroutine's stack: the scan recurses).
var scanners = sync.Pool{New: func() any { return &scanner{stack: make([]frame, 0, shallowDepth)} }}

func (s *scanner) release() {
	if cap(s.stack) > 4*shallowDepth {
		return // a deep body's stack is not kept for the shallow ones
	}
	clear(s.stack[:cap(s.stack)]) // the member maps of large objects
	s.raw, s.pos, s.stack, s.fold = nil, 0, s.stack[:0], s.fold[:0]
	scanners.Put(s)
}

// errSyntax stops the scan at invalid JSON, which the decoder reports.
var errSyntax = fmt.Errorf("syntax")

var errTooDeep = problem.Malformed("body", fmt.Sprintf("must not nest arrays and objects more than %d levels deep", MaxDepth))

type scanner struct {
	raw   []byte
	pos   int
	stack []frame
	fold  []byte // scratch space for folding names
}

// shallowDepth is the nesting a new scanner has room for: a request of
// this API nests three or four levels deep; deeper ones grow the stack.
const shallowDepth = 4

// inlineNames is how many member names an object keeps before it needs a
// map: most objects have fewer, and compare each name with each.
const inlineNames = 8

// frame is an array or object being read: the element or member it is at.
type frame struct {
	object bool
	// index counts the elements (or members) before the current one.
	index int
	// key is the quoted name of the current member, as raw[key[0]:key[1]].
	key [2]int
	// first are the quoted names of an object's first members; names maps
	// the folded names of all of them once there are more.
	first [inlineNames][2]int
	names map[string][2]int
}

func (s *scanner) value() error {
	s.space()
	if s.pos >= len(s.raw) {
		return errSyntax
	}
	switch s.raw[s.pos] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		nul, err := s.str()
		if err != nil {
			return err
		}
		if nul {
			return problem.Malformed(s.path(len(s.stack)), "must not contain NUL characters")
		}
		return nil
	}
	start := s.pos
	for s.pos < len(s.raw) && !delimiter(s.raw[s.pos]) {
		s.pos++
	}
	if s.pos == start {
		return errSyntax
	}
	return nil
}

func (s *scanner) open(object bool) error {
	if len(s.stack) == MaxDepth {
		return errTooDeep
	}
	s.stack = append(s.stack, frame{object: object})
	s.pos++
	return nil
}

func (s *scanner) close() {
	s.stack = s.stack[:len(s.stack)-1]
	s.pos++
}

func (s *scanner) array() error {
	if err := s.open(false); err != nil {
		return err
	}
	if s.space(); s.peek() == ']' {
		s.close()
		return nil
	}
	for {
		if err := s.value(); err != nil {
			return err
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
			f := &s.stack[len(s.stack)-1]
			if f.index++; f.index == MaxElements {
				return problem.Malformed(s.path(len(s.stack)-1), fmt.Sprintf("must hold at most %d elements", MaxElements))
			}
		case ']':
			s.close()
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *scanner) object() error {
	if err := s.open(true); err != nil {
		return err
	}
	if s.space(); s.peek() == '}' {
		s.close()
		return nil
	}
	for {
		if s.space(); s.peek() != '"' {
			return errSyntax
		}
		start := s.pos
		nul, err := s.str()
		if err != nil {
			return err
		}
		key := [2]int{start, s.pos}
		f := &s.stack[len(s.stack)-1]
		f.key = key
		if nul {
			return problem.Malformed(s.path(len(s.stack)), "must not contain NUL characters")
		}
		if f.index == MaxMembers {
			return problem.Malformed(s.path(len(s.stack)-1), fmt.Sprintf("must hold at most %d members", MaxMembers))
		}
		if err := s.remember(f, key); err != nil {
			return err
		}
		f.index++
		if s.space(); s.peek() != ':' {
			return errSyntax
		}
		s.pos++
		if err := s.value(); err != nil {
			return err
		}
		s.space()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.close()
			return nil
		default:
			return errSyntax
		}
	}
}

// remember records the member name at key in f, refusing one that
// encoding/json would take for a name already read. encoding/json matches
// names to fields ignoring case (bytes.EqualFold) and keeps the last value,
// so {"amount_cents":5,"Amount_Cents":700} decodes as 700 while anything
// comparing names exactly sees two members. Treating names that fold alike
// as one member keeps the one-name-one-value rule without knowing the
// target type (decoding strictly would mean checking every name against
// the fields by reflection); a single name in another case stays accepted,
// as it is not ambiguous.
func (s *scanner) remember(f *frame, key [2]int) error {
	if f.index < inlineNames {
		for _, seen := range f.first[:f.index] {
			if s.sameName(seen, key) {
				return s.duplicate(s.name(seen), s.name(key))
			}
		}
		f.first[f.index] = key
		return nil
	}
	name := s.name(key)
	if f.names == nil {
		f.names = make(map[string][2]int, 2*inlineNames)
		for _, seen := range f.first {
			f.names[string(appendFolded(nil, s.name(seen)))] = seen
		}
	}
	s.fold = appendFolded(s.fold[:0], name)
	if seen, dup := f.names[string(s.fold)]; dup {
		return s.duplicate(s.name(seen), name)
	}
	f.names[string(s.fold)] = key
	return nil
}

func (s *scanner) duplicate(first, again string) error {
	if first == again {
		return problem.Malformed(s.path(len(s.stack)), "appears more than once")
	}
	return problem.Malformed(s.path(len(s.stack)), fmt.Sprintf("is the member %q again (names are matched ignoring case)", first))
}

// str moves past the string at pos and reports whether it holds an escaped
// NUL (raw control characters are invalid JSON, left to the decoder).
func (s *scanner) str() (nul bool, err error) {
	s.pos++ // the opening quote
	for s.pos < len(s.raw) {
		switch c := s.raw[s.pos]; {
		case c == '"':
			s.pos++
			return nul, nil
		case c == '\\':
			if s.pos+1 >= len(s.raw) {
				return false, errSyntax
			}
			if s.raw[s.pos+1] != 'u' {
				s.pos += 2
				continue
			}
			if s.pos+6 > len(s.raw) {
				return false, errSyntax
			}
			r, perr := strconv.ParseUint(string(s.raw[s.pos+2:s.pos+6]), 16, 16)
			if perr != nil {
				return false, errSyntax
			}
			nul = nul || r == 0
			s.pos += 6
		case c < 0x20:
			return false, errSyntax
		default:
			s.pos++
		}
	}
	return false, errSyntax
}

// name is the quoted string at key as encoding/json decodes it.
func (s *scanner) name(key [2]int) string {
	quoted := s.raw[key[0]:key[1]]
	if plain(quoted) {
		return string(quoted[1 : len(quoted)-1])
	}
	var out string
	if err := json.Unmarshal(quoted, &out); err != nil {
		return string(quoted[1 : len(quoted)-1])
	}
	return out
}

// sameName reports whether the names at a and b fold alike, comparing the
// raw bytes when neither holds an escape (no string is made for them).
func (s *scanner) sameName(a, b [2]int) bool {
	qa, qb := s.raw[a[0]:a[1]], s.raw[b[0]:b[1]]
	if plain(qa) && plain(qb) {
		return bytes.EqualFold(qa, qb)
	}
	return strings.EqualFold(s.name(a), s.name(b))
}

// plain reports whether a quoted string is printable ASCII without escapes.
func plain(quoted []byte) bool {
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendFolded appends a form of name that is equal for two names exactly
// when bytes.EqualFold holds for them, as encoding/json folds names: each
// rune is replaced by the smallest rune of its simple case folding orbit.
func appendFolded(out []byte, name string) []byte {
	for _, r := range name {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
			continue
		}
		out = utf8.AppendRune(out, smallestFold(r))
	}
	return out
}

func smallestFold(r rune) rune {
	smallest := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		smallest = min(smallest, f)
	}
	return smallest
}

func (s *scanner) space() {
	for s.pos < len(s.raw) {
		switch s.raw[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.pos >= len(s.raw) {
		return 0
	}
	return s.raw[s.pos]
}

// delimiter ends a number or literal.
func delimiter(c byte) bool {
	switch c {
	case ',', ']', '}', ':', '"', '[', '{', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// path names the position in the first depth open arrays and objects:
// len(s.stack) for the member or element being read, one less for the
// array or object holding it.
func (s *scanner) path(depth int) string {
	var b strings.Builder
	for _, f := range s.stack[:depth] {
		switch {
		case !f.object:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		case f.key[1] > 0:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name(f.key))
		}
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}
