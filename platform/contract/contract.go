// Package contract declares each method of a module's contract once and
// calls it through one path, whether the callee runs in this process or
// elsewhere. A module lists its methods with Define and Read, Idempotent,
// Keyed or Unsafe; that one declaration gives:
//
//   - the internal route the method is served on (/internal/<module>/<method>,
//     in kebab case), registered by Serve and called by the HTTP client;
//   - whether a failed call may be repeated, for the client's retries;
//   - the name the call is counted under, per calling module, in this
//     process's edge registry (and traced under, "<module>.<Method>").
//
// A consumer holds the contract interface; fx gives it a stub that calls
// the implementation in-process, or the HTTP client when the module runs
// elsewhere, bound to the consumer's name (ForCaller), so a call from
// orders to payments is counted as orders → payments.Charge either way.
//
// Why not code generation (Weaver, go-kit's endpoints): each method is one
// declaration and one three-line stub method, which a reader can follow
// without a generator in the build.
package contract

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// Contract is the declaration of one module's interface S.
type Contract[S any] struct {
	module  string
	errors  []*problem.Error
	wrap    func(Stub[S]) S
	methods []methodInfo
	serve   []func(e *echo.Echo, impl S)
}

// methodInfo is what the contract knows of a method without its types.
type methodInfo struct {
	name, path string
}

// Define starts the declaration of module's contract S. errs are the
// contract's coded errors, decoded back into the same sentinels over HTTP;
// wrap turns a Stub into S (the module's stub type embeds Stub).
func Define[S any](module string, errs []*problem.Error, wrap func(Stub[S]) S) *Contract[S] {
	return &Contract[S]{module: module, errors: errs, wrap: wrap}
}

// Module is the name of the module the contract belongs to.
func (c *Contract[S]) Module() string { return c.module }

// Methods lists the declared methods' names, in declaration order.
func (c *Contract[S]) Methods() []string {
	out := make([]string, len(c.methods))
	for i, m := range c.methods {
		out[i] = m.name
	}
	return out
}

// Method is one declared method of S, taking In and answering Out.
type Method[S, In, Out any] struct {
	name   string // as in the interface: Charge
	path   string // its internal route
	index  int    // position in the contract's methods
	safety func(In) transport.Safety
	impl   func(S, context.Context, In) (Out, error)
}

// Name is the method's name in the interface.
func (m *Method[S, In, Out]) Name() string { return m.name }

// Path is the internal route the method is served on.
func (m *Method[S, In, Out]) Path() string { return m.path }

// Read declares a method that changes nothing: repeating it is harmless.
// impl is the interface's method expression (payments.Service.GetWallet),
// which also names the method.
func Read[S, In, Out any](c *Contract[S], impl func(S, context.Context, In) (Out, error)) *Method[S, In, Out] {
	return declare(c, impl, func(In) transport.Safety { return transport.Read })
}

// Idempotent declares a write with the same effect however often it
// arrives (a refund happens once per payment).
func Idempotent[S, In, Out any](c *Contract[S], impl func(S, context.Context, In) (Out, error)) *Method[S, In, Out] {
	return declare(c, impl, func(In) transport.Safety { return transport.Idempotent })
}

// Keyed declares a write that is safe to repeat only when key returns a
// non-empty idempotency key for the request.
func Keyed[S, In, Out any](c *Contract[S], impl func(S, context.Context, In) (Out, error), key func(In) string) *Method[S, In, Out] {
	return declare(c, impl, func(in In) transport.Safety { return transport.Keyed(key(in)) })
}

// Unsafe declares a write that must be sent at most once.
func Unsafe[S, In, Out any](c *Contract[S], impl func(S, context.Context, In) (Out, error)) *Method[S, In, Out] {
	return declare(c, impl, func(In) transport.Safety { return transport.Unsafe })
}

func declare[S, In, Out any](c *Contract[S], impl func(S, context.Context, In) (Out, error), safety func(In) transport.Safety) *Method[S, In, Out] {
	name := methodName(impl)
	m := &Method[S, In, Out]{
		name:   name,
		path:   MethodPath(c.module, name),
		index:  len(c.methods),
		safety: safety,
		impl:   impl,
	}
	c.methods = append(c.methods, methodInfo{name: m.name, path: m.path})
	c.serve = append(c.serve, func(e *echo.Echo, svc S) {
		e.POST(m.path, serveSpan(c.module, m.name, transport.Handle(func(ctx context.Context, in In) (Out, error) { return impl(svc, ctx, in) })))
	})
	return m
}

// methodName reads the method's name from its method expression, whose
// function is named like mitosis/modules/payments.Service.Charge: the
// declaration then cannot name one method and call another.
func methodName(impl any) string {
	fn := runtime.FuncForPC(reflect.ValueOf(impl).Pointer())
	if fn == nil {
		panic("contract: a method must be declared with the interface's method expression")
	}
	full := strings.TrimSuffix(fn.Name(), "-fm")
	name := full[strings.LastIndexByte(full, '.')+1:]
	if name == "" || !unicode.IsUpper(rune(name[0])) {
		panic(fmt.Sprintf("contract: %s is not an exported interface method", full))
	}
	return name
}

// kebab turns GetWallet into get-wallet.
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Serve registers every method of the contract on its internal route,
// calling impl, the module's own implementation.
func (c *Contract[S]) Serve(e *echo.Echo, impl S) {
	for _, serve := range c.serve {
		serve(e, impl)
	}
}

// Verify reports a method of S that is not declared, or declared twice, so
// a method added to the interface without its declaration fails a test.
func (c *Contract[S]) Verify() error {
	declared := map[string]int{}
	for _, m := range c.methods {
		declared[m.name]++
	}
	t := reflect.TypeFor[S]()
	var problems []string
	for i := range t.NumMethod() {
		name := t.Method(i).Name
		switch declared[name] {
		case 0:
			problems = append(problems, name+" is not declared")
		case 1:
		default:
			problems = append(problems, name+" is declared more than once")
		}
		delete(declared, name)
	}
	for name := range declared {
		problems = append(problems, name+" is declared but not in the interface")
	}
	if len(problems) > 0 {
		return fmt.Errorf("contract of %s: %s", c.module, strings.Join(problems, "; "))
	}
	return nil
}
