package modules_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"mitosis/modules"
)

// moduleFile is one non-test Go file of a module, parsed.
type moduleFile struct {
	rel     string // from the module's folder, with slashes
	file    *ast.File
	imports map[string]string // local name → import path
}

func moduleFiles(t *testing.T, name string) []moduleFile {
	t.Helper()
	root := filepath.Join(".", name)
	fset := token.NewFileSet()
	var out []moduleFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		mf := moduleFile{rel: filepath.ToSlash(rel), file: f, imports: map[string]string{}}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			mf.imports[local] = p
		}
		out = append(out, mf)
		return nil
	})
	require.NoError(t, err)
	return out
}

// txOpeners are the calls that open a transaction.
var txOpeners = map[string]bool{"RunInTx": true, "BeginTx": true, "Begin": true}

// inTxSignature is the one shape of a store's transactions.
const inTxSignature = "func(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error"

// Every store owns its transactions the same way: it opens them in one
// method, InTx, of that one signature; nothing else in the module opens
// one, so what is atomic is composed by the domain inside InTx from the
// store's statements (see README, Adding a module).
func TestStoresOpenTransactionsOnlyInInTx(t *testing.T) {
	for _, s := range modules.All() {
		if _, err := os.Stat(filepath.Join(".", s.Name, "internal", "store")); err != nil {
			continue // a module without data
		}
		hasInTx := false
		for _, f := range moduleFiles(t, s.Name) {
			inStore := strings.HasPrefix(f.rel, "internal/store/")
			for _, decl := range f.file.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				isInTx := inStore && fn.Name.Name == "InTx" && fn.Recv != nil && types.ExprString(fn.Recv.List[0].Type) == "*Store"
				if isInTx {
					hasInTx = true
					assert.Equal(t, inTxSignature, types.ExprString(fn.Type), "%s: %s's InTx", f.rel, s.Name)
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && txOpeners[sel.Sel.Name] {
						t.Errorf("modules/%s/%s: %s opens a transaction (%s); use the store's InTx", s.Name, f.rel, fn.Name.Name, sel.Sel.Name)
					}
					return true
				})
			}
		}
		assert.True(t, hasInTx, "modules/%s/internal/store has no InTx method of Store", s.Name)
	}
}

// A module's event handlers are domain code: they live in its app, which
// its fx wiring subscribes, and its store holds none.
func TestSubscribersLiveInApp(t *testing.T) {
	for _, s := range modules.All() {
		for _, f := range moduleFiles(t, s.Name) {
			events := ""
			for local, p := range f.imports {
				if p == "mitosis/platform/events" {
					events = local
				}
			}
			if events == "" {
				continue
			}
			ast.Inspect(f.file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != events {
					return true
				}
				if sel.Sel.Name == "Handler" && !strings.HasPrefix(f.rel, "internal/app/") {
					t.Errorf("modules/%s/%s: an event handler outside internal/app", s.Name, f.rel)
				}
				return true
			})
			ast.Inspect(f.file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Subscriber" || types.ExprString(sel.X) != events || len(call.Args) != 2 {
					return true
				}
				from := ""
				if h, ok := call.Args[1].(*ast.CallExpr); ok {
					if hs, ok := h.Fun.(*ast.SelectorExpr); ok {
						from = f.imports[types.ExprString(hs.X)]
					}
				}
				assert.Equal(t, "mitosis/modules/"+s.Name+"/internal/app", from,
					"modules/%s/%s: the subscriber's handlers come from the module's app", s.Name, f.rel)
				return true
			})
		}
	}
}
