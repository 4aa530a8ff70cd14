package scaffold

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// listPath is the one list of modules, which the scaffolder adds a line to.
const listPath = "modules/modules.go"

// repo is what the scaffolder reads of the repository first.
type repo struct {
	list []byte
	// modules are the module folders, each with its contract file;
	// contracts those whose contract has a Service interface; events the
	// event types each publishes (its Event* constants).
	modules   []string
	contracts map[string]bool
	events    map[string]string // event type → module
	dirs      map[string]bool   // existing entries of modules/ and migrations/
	// front is the module whose spec says Proxies (it serves what the
	// others leave to it): the lists keep it last, so a new module goes
	// before it; "" for none.
	front string
}

// reserved are names a module may not take: the gateway and the folders
// of the layout, and the packages the generated code imports by these
// names (a module called store would shadow its own store).
var reserved = []string{"gateway", "platform", "internal", "modules",
	"app", "store", "httpapi", "contract", "config", "db", "events", "topology", "problem", "auth", "transport",
	"fx", "bun", "echo", "uuid", "ids", "pgtest", "modulestest", "context", "errors", "fmt", "http", "strings",
	"time", "testing", "utf8", "require", "assert", "pgx", "pgconn", "main", "test"}

// predeclared are Go's predeclared identifiers: legal package names, but
// a module called string would be a trap.
var predeclared = []string{"any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32",
	"float64", "int", "int8", "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32",
	"uint64", "uintptr", "true", "false", "iota", "nil", "append", "cap", "clear", "close", "complex", "copy",
	"delete", "imag", "len", "make", "max", "min", "new", "panic", "print", "println", "real", "recover"}

var (
	validName  = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	validEvent = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
)

func readRepo(root string) (repo, error) {
	r := repo{contracts: map[string]bool{}, events: map[string]string{}, dirs: map[string]bool{}}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !regexp.MustCompile(`(?m)^module mitosis\s*$`).Match(mod) {
		return repo{}, fmt.Errorf("%s is not the root of the mitosis repository (no go.mod of module mitosis); run it there", root)
	}
	if r.list, err = os.ReadFile(filepath.Join(root, listPath)); err != nil {
		return repo{}, fmt.Errorf("read the module list: %w", err)
	}
	for _, dir := range []string{"modules", "migrations"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return repo{}, err
		}
		for _, e := range entries {
			r.dirs[dir+"/"+e.Name()] = true
			if dir != "modules" || !e.IsDir() {
				continue
			}
			contract := filepath.Join(root, "modules", e.Name(), e.Name()+".go")
			if _, err := os.Stat(contract); err != nil {
				continue // modulestest and the like: no module
			}
			r.modules = append(r.modules, e.Name())
			service, events, err := readContract(contract)
			if err != nil {
				return repo{}, err
			}
			r.contracts[e.Name()] = service
			if proxies, err := specProxies(filepath.Join(root, "modules", e.Name(), e.Name()+"fx")); err != nil {
				return repo{}, err
			} else if proxies {
				r.front = e.Name()
			}
			for _, typ := range events {
				r.events[typ] = e.Name()
			}
		}
	}
	return r, nil
}

// readContract reports whether a contract file declares a Service
// interface, and the values of its Event* string constants.
func readContract(path string) (bool, []string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return false, nil, err
	}
	service := false
	var events []string
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range g.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if _, isInterface := s.Type.(*ast.InterfaceType); isInterface && s.Name.Name == "Service" {
					service = true
				}
			case *ast.ValueSpec:
				for i, name := range s.Names {
					if !strings.HasPrefix(name.Name, "Event") || i >= len(s.Values) {
						continue
					}
					if lit, ok := s.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						events = append(events, v)
					}
				}
			}
		}
	}
	return service, events, nil
}

// specProxies reports whether the fx package in dir declares a spec with
// Proxies: true.
func specProxies(dir string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return false, err
	}
	found := false
	for _, path := range files {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return false, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return !found
			}
			key, isKey := kv.Key.(*ast.Ident)
			value, isValue := kv.Value.(*ast.Ident)
			found = found || isKey && isValue && key.Name == "Proxies" && value.Name == "true"
			return !found
		})
	}
	return found, nil
}

// check refuses, in one line, what cannot become a module.
func check(r repo, opts Options) error {
	n := opts.Name
	switch {
	case !validName.MatchString(n):
		return fmt.Errorf("module name %q: use lowercase letters and digits, starting with a letter", n)
	case token.IsKeyword(n):
		return fmt.Errorf("module name %q is a Go keyword", n)
	case slices.Contains(predeclared, n):
		return fmt.Errorf("module name %q is one of Go's predeclared names", n)
	case slices.Contains(reserved, n):
		return fmt.Errorf("module name %q is reserved", n)
	case slices.Contains(r.modules, n):
		return fmt.Errorf("module %s exists", n)
	case r.dirs["modules/"+n]:
		return fmt.Errorf("modules/%s exists", n)
	case r.dirs["migrations/"+n]:
		return fmt.Errorf("migrations/%s exists", n)
	}
	for i, dep := range opts.Depends {
		switch {
		case !slices.Contains(r.modules, dep):
			return fmt.Errorf("dependency %q is not a module (modules: %s)", dep, strings.Join(r.modules, ", "))
		case !r.contracts[dep]:
			return fmt.Errorf("dependency %s has no contract to call (no Service in modules/%s/%s.go)", dep, dep, dep)
		case slices.Contains(opts.Depends[:i], dep):
			return fmt.Errorf("dependency %s is named twice", dep)
		}
	}
	taken := map[string]bool{"Service": true, "CreateItemRequest": true, "Item": true, "MaxNameLength": true,
		"ErrItemExists": true, "Errors": true, "Name": true, "OpenAPI": true}
	for i, typ := range opts.Publishes {
		switch {
		case !validEvent.MatchString(typ):
			return fmt.Errorf("event %q: use dotted lowercase words, like %s.item_created", typ, n)
		case r.events[typ] != "":
			return fmt.Errorf("event %s is published by %s already", typ, r.events[typ])
		case slices.Contains(opts.Publishes[:i], typ):
			return fmt.Errorf("event %s is named twice", typ)
		case taken[goName(typ)] || taken["Event"+goName(typ)]:
			return fmt.Errorf("event %s would be named %s in Go, which the contract uses", typ, goName(typ))
		}
		taken[goName(typ)], taken["Event"+goName(typ)] = true, true
	}
	return nil
}

// goName is an event type's Go name: shelf.item_created → ShelfItemCreated.
func goName(typ string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(typ, func(r rune) bool { return r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// addToList adds the module's spec to modules/modules.go: its import and
// its entry in All, before front's (see repo.front) or last, gofmt'd.
func addToList(src []byte, name, front string) ([]byte, error) {
	text := string(src)
	imp := fmt.Sprintf("\t\"mitosis/modules/%s/%sfx\"\n", name, name)
	if !strings.Contains(text, "import (\n") || !strings.Contains(text, "[]topology.Spec{") {
		return nil, fmt.Errorf("%s: no import block or []topology.Spec{ list to add %s to", listPath, name)
	}
	text = strings.Replace(text, "import (\n", "import (\n"+imp, 1)
	entry := name + "fx.Spec, "
	start := strings.Index(text, "[]topology.Spec{") + len("[]topology.Spec{")
	end := start + strings.Index(text[start:], "}")
	if i := strings.Index(text[start:end], front+"fx.Spec"); front != "" && i >= 0 {
		text = text[:start+i] + entry + text[start+i:]
	} else {
		text = text[:end] + ", " + strings.TrimSuffix(entry, ", ") + text[end:]
	}
	out, err := format.Source([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%s after adding %s: %w", listPath, name, err)
	}
	return out, nil
}
