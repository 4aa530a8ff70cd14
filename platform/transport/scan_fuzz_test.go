package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"mitosis/platform/problem"
)

// FuzzScan checks the scanner against a reference built on encoding/json's
// own tokenizer: on valid JSON both find the same first problem (or none),
// and on anything else the scanner neither panics nor reads past the end.
// Seeds are in testdata/fuzz/FuzzScan.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":1,"A":2}`, `{"a":[1,{"b":"\u0000"}]}`, `[[[[[[[[]]]]]]]]`,
		`{"k":1,"\u212a":2}`, `{"a\\"b":1,"a\"b":2}`, `"\ud83d\ude00"`, `{"x":1} {"x":1,"x":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := scan(raw)
		if !json.Valid(raw) {
			return
		}
		want := referenceScan(raw)
		if describe(got) != describe(want) {
			t.Fatalf("scan(%q) = %s, the reference says %s", raw, describe(got), describe(want))
		}
	})
}

func describe(err error) string {
	if err == nil {
		return "ok"
	}
	var ve *problem.ValidationError
	if !errors.As(err, &ve) {
		return "not a validation error: " + err.Error()
	}
	return fmt.Sprintf("%s %v", problem.CodeOf(err).Code, ve.Fields)
}

// referenceScan is what scan must find, written the slow and obvious way
// with json.Decoder.Token, which decodes every name and string for us.
func referenceScan(raw []byte) error {
	type open struct {
		object  bool
		count   int
		key     string
		wantKey bool
		names   []string
	}
	at := func(stack []*open) string {
		var b strings.Builder
		for _, o := range stack {
			switch {
			case !o.object:
				b.WriteString("[" + strconv.Itoa(o.count-1) + "]")
			case !o.wantKey || o.key != "":
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(o.key)
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []*open
	// element counts a value starting in the innermost array.
	element := func() error {
		if len(stack) == 0 || stack[len(stack)-1].object {
			return nil
		}
		top := stack[len(stack)-1]
		if top.count == MaxElements {
			return problem.Malformed(at(stack[:len(stack)-1]), fmt.Sprintf("must hold at most %d elements", MaxElements))
		}
		top.count++
		return nil
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *open
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		if name, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			top.key, top.wantKey = name, false
			if strings.ContainsRune(name, 0) {
				return problem.Malformed(at(stack), "must not contain NUL characters")
			}
			if top.count == MaxMembers {
				return problem.Malformed(at(stack[:len(stack)-1]), fmt.Sprintf("must hold at most %d members", MaxMembers))
			}
			top.count++
			for _, seen := range top.names {
				if bytes.EqualFold([]byte(seen), []byte(name)) {
					if seen == name {
						return problem.Malformed(at(stack), "appears more than once")
					}
					return problem.Malformed(at(stack), fmt.Sprintf("is the member %q again (names are matched ignoring case)", seen))
				}
			}
			top.names = append(top.names, name)
			continue
		}
		// A value: an element of an array, or a member's value.
		if err := element(); err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			if len(stack) == MaxDepth {
				return errTooDeep
			}
			stack = append(stack, &open{object: v == '{', wantKey: v == '{'})
			continue
		case string:
			if strings.ContainsRune(v, 0) {
				return problem.Malformed(at(stack), "must not contain NUL characters")
			}
		}
		if top != nil && top.object {
			top.wantKey = true
		}
	}
}
