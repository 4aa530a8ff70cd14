// Package scaffold writes a new module into the repository (`app new
// module NAME`): its contract, spec and fx wiring, domain, store with a
// first migration, HTTP routes and client from the one contract
// declaration, its OpenAPI part, its contract suite run in-process and over
// HTTP, and its line in modules/modules.go. What it writes compiles, is
// gofmt'd and passes its tests untouched; it writes nothing when it
// refuses.
//
// It writes nothing else: modules/NAME/, migrations/NAME/ and the module's
// line in modules/modules.go are the whole change. Nothing outside them
// lists the modules: the tests, the CLI and the gateway range over
// modules.All, the compose split and the chart's example placements run a
// new module in their process of the rest (SERVICES=-a,-b, a group with no
// services list) and find it there (OTHER_MODULES_URL, the URLs the chart
// computes), and the chart's module graph is generated from the binary
// (make graph, make chart), never committed. An --isolated module is the
// one exception it cannot close: its database is someone's choice, so the
// deployment examples' checks name its <NAME>_DATABASE_URL until one is
// given (the next steps it prints say so).
package scaffold

import (
	"bytes"
	"embed"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var templates embed.FS

// Options are what `app new module` is asked for.
type Options struct {
	Name string
	// Depends are the modules whose contracts it calls.
	Depends []string
	// Isolated gives it a database of its own by default.
	Isolated bool
	// Publishes are the event types it writes to its outbox.
	Publishes []string
	// Now dates its first migration.
	Now time.Time
}

// File is one file the scaffolder writes, by its path from the root.
type File struct {
	Path    string
	Content []byte
}

// Plan is what a scaffold would write: every file, complete, before any
// is written.
type Plan struct {
	Root  string
	Files []File
	// Edited are the paths of existing files it changes: the module list,
	// and only it.
	Edited []string
}

// event is one published event type and its Go name.
type event struct {
	Type string // shelf.item_created
	Go   string // ShelfItemCreated
}

// data is what the templates see.
type data struct {
	Name, Title, Env string
	Depends          []string
	Events           []event
	Isolated         bool
}

// DependsText is "users and payments".
func (d data) DependsText() string {
	switch len(d.Depends) {
	case 0:
		return ""
	case 1:
		return d.Depends[0]
	}
	return strings.Join(d.Depends[:len(d.Depends)-1], ", ") + " and " + d.Depends[len(d.Depends)-1]
}

// DependsList is `"users", "payments"`.
func (d data) DependsList() string { return quoted(d.Depends) }

// EventsList is the event constants, for the spec.
func (d data) EventsList() string {
	var out []string
	for _, e := range d.Events {
		out = append(out, d.Name+".Event"+e.Go)
	}
	return strings.Join(out, ", ")
}

// Services is what the module's contract test runs: the module alone, or
// every module when it calls others (which call theirs).
func (d data) Services() string {
	if len(d.Depends) > 0 {
		return ""
	}
	return d.Name
}

// New checks opts against the repository at root and renders every file;
// a refusal is one line, and nothing is written either way (see Write).
func New(root string, opts Options) (*Plan, error) {
	repo, err := readRepo(root)
	if err != nil {
		return nil, err
	}
	if err := check(repo, opts); err != nil {
		return nil, err
	}
	d := data{Name: opts.Name, Title: strings.ToUpper(opts.Name[:1]) + opts.Name[1:], Env: strings.ToUpper(opts.Name),
		Depends: opts.Depends, Isolated: opts.Isolated}
	for _, typ := range opts.Publishes {
		d.Events = append(d.Events, event{Type: typ, Go: goName(typ)})
	}
	n := opts.Name
	stamp := opts.Now.UTC().Format("20060102150405")
	files := []struct{ tmpl, path string }{
		{"contract.go", "modules/" + n + "/" + n + ".go"},
		{"openapi.go", "modules/" + n + "/openapi.go"},
		{"openapi.yaml", "modules/" + n + "/openapi.yaml"},
		{"module_test.go", "modules/" + n + "/" + n + "_test.go"},
		{"module.go", "modules/" + n + "/" + n + "fx/module.go"},
		{"app.go", "modules/" + n + "/internal/app/service.go"},
		{"store.go", "modules/" + n + "/internal/store/store.go"},
		{"httpapi_contract.go", "modules/" + n + "/internal/httpapi/contract.go"},
		{"routes.go", "modules/" + n + "/internal/httpapi/routes.go"},
		{"suite.go", "modules/" + n + "/" + n + "test/" + n + "test.go"},
		{"up.sql", "migrations/" + n + "/" + stamp + "_create_items.tx.up.sql"},
		{"down.sql", "migrations/" + n + "/" + stamp + "_create_items.tx.down.sql"},
	}
	p := &Plan{Root: root}
	for _, f := range files {
		content, err := render(f.tmpl, d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		p.Files = append(p.Files, File{Path: f.path, Content: content})
	}
	list, err := addToList(repo.list, n, repo.front)
	if err != nil {
		return nil, err
	}
	p.Files = append(p.Files, File{Path: listPath, Content: list})
	p.Edited = []string{listPath}
	return p, nil
}

// render executes one template; Go output is gofmt'd, so a template's
// spacing never reaches the repository.
func render(name string, d data) ([]byte, error) {
	t, err := template.ParseFS(templates, "templates/"+name+".tmpl")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, ".go") {
		return b.Bytes(), nil
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt: %w\n%s", err, b.String())
	}
	return out, nil
}

// Write writes every file of the plan: new ones created (never over an
// existing file), the module list replaced.
func (p *Plan) Write() error {
	for _, f := range p.Files {
		if _, err := os.Stat(filepath.Join(p.Root, filepath.FromSlash(f.Path))); err == nil && !p.edits(f.Path) {
			return fmt.Errorf("%s exists; nothing written", f.Path)
		}
	}
	for _, f := range p.Files {
		path := filepath.Join(p.Root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plan) edits(path string) bool {
	for _, e := range p.Edited {
		if e == path {
			return true
		}
	}
	return false
}

// Paths lists the plan's files, sorted, the module list marked.
func (p *Plan) Paths() []string {
	var out []string
	for _, f := range p.Files {
		if f.Path == listPath {
			out = append(out, f.Path+" (its line added)")
			continue
		}
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

func quoted(names []string) string {
	var out []string
	for _, n := range names {
		out = append(out, fmt.Sprintf("%q", n))
	}
	return strings.Join(out, ", ")
}
