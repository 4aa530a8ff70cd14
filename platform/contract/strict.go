package contract

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// Strict makes every in-process call of the stubs bound in the registry
// take the path of an HTTP call without the socket (LOCAL_CALLS=strict):
// through loop, this process's own handler, with the transport's client.
// The callee gets its own copy of the request, decoded from JSON; the
// deadline crosses as its header; the callee sees the caller in its
// service credentials; the answer, or the error as its coded problem, is
// decoded back. So a caller and a callee that share memory, pass what JSON
// cannot carry or rely on an error outside the contract fail here, in one
// process, as they would once split. A nil loop changes nothing.
func Strict(loop *transport.Loopback) Option { return func(r *Registry) { r.loop = loop } }

// loopback sends one call through the process's loopback. A request
// holding what the wire would silently drop (a non-zero unexported field,
// or one tagged json:"-") fails before it is sent: the callee would see
// the zero value, and the caller meant otherwise.
func loopback[S, In, Out any](c *conn[S], m *Method[S, In, Out], ctx context.Context, in In) (Out, error) {
	if field := dropped(reflect.ValueOf(in), "request"); field != "" {
		var zero Out
		return zero, fmt.Errorf("%s.%s: %s does not cross the wire (JSON carries exported fields only): the callee would not see it",
			c.api.module, m.name, field)
	}
	out, err := remoteCall(c.client, ctx, m, in)
	return out, named(c.api.module, m.name, err)
}

// named puts the method's name on a failure without a code (a request or
// an answer JSON could not carry, a callee's internal error), so the
// caller's log says which call failed. A coded error is returned as it
// is: its text may reach a public answer, which must not change with the
// placement.
func named(module, method string, err error) error {
	if err == nil || Code(err) != problem.ErrInternal.Code {
		return err
	}
	return fmt.Errorf("%s.%s: %w", module, method, err)
}

// dropped names the first part of v that encoding/json would leave out
// although it holds a value, or "" when all of v crosses. Types that
// encode themselves (time.Time, json.RawMessage) are taken as they are.
func dropped(v reflect.Value, path string) string {
	if !v.IsValid() {
		return ""
	}
	t := v.Type()
	if t.Implements(marshaler) || t.Implements(textMarshaler) ||
		(v.CanAddr() && (reflect.PointerTo(t).Implements(marshaler) || reflect.PointerTo(t).Implements(textMarshaler))) {
		return ""
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return dropped(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f := dropped(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); f != "" {
				return f
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if f := dropped(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key())); f != "" {
				return f
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			sf, fv := t.Field(i), v.Field(i)
			tag := sf.Tag.Get("json")
			switch {
			case sf.Anonymous && !sf.IsExported() && indirect(sf.Type).Kind() == reflect.Struct:
				// An embedded unexported struct's exported fields are
				// promoted: JSON carries them.
				if f := dropped(fv, path); f != "" {
					return f
				}
			case !sf.IsExported() || tag == "-":
				if !fv.IsZero() {
					return path + "." + sf.Name
				}
			default:
				if f := dropped(fv, path+"."+jsonName(sf.Name, tag)); f != "" {
					return f
				}
			}
		}
	}
	return ""
}

var (
	marshaler     = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func indirect(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func jsonName(field, tag string) string {
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return field
}
