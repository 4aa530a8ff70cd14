package transport

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"mitosis/platform/problem"
)

// scan refuses what encoding/json would silently accept: a member named
// twice in one object (json keeps the last, another parser the first) and a
// string holding a NUL character (PostgreSQL text cannot store it). Errors
// name the member by its path, like items[0].sku. Syntax errors are left to
// the decoder, which reports them.
func scan(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, &frame{object: v == '{', wantKey: v == '{', keys: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].next()
				}
			}
		case string:
			if top != nil && top.wantKey {
				if top.keys[v] {
					return problem.Malformed(path(stack, v), "appears more than once")
				}
				top.keys[v], top.key, top.wantKey = true, v, false
				continue
			}
			if strings.ContainsRune(v, 0) {
				return problem.Malformed(path(stack, ""), "must not contain NUL characters")
			}
			top.next()
		default:
			top.next()
		}
	}
}

// frame is an object or array being read: the member it is at.
type frame struct {
	object  bool
	wantKey bool // the next string of an object is a member's name
	keys    map[string]bool
	key     string // the current member's name
	index   int
}

// next moves past the current member or element.
func (f *frame) next() {
	if f == nil {
		return
	}
	if f.object {
		f.key, f.wantKey = "", true
	} else {
		f.index++
	}
}

// path names the current position, with leaf as the last member if set.
func path(stack []*frame, leaf string) string {
	var b strings.Builder
	for _, f := range stack {
		switch {
		case !f.object:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		case !f.wantKey:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
	}
	if leaf != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(leaf)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}
