package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// document is a configuration file: the platform's settings, and each
// module's under modules.<name>, kept as YAML until the module's own
// section is known.
type document struct {
	Config  `yaml:",inline"`
	Modules map[string]rawNode `yaml:"modules"`
}

// rawNode keeps a node as it was read, with its line numbers.
type rawNode struct{ node *yaml.Node }

func (r *rawNode) UnmarshalYAML(n *yaml.Node) error {
	r.node = n
	return nil
}

// applyModules decodes each module's part of a file: its url and database
// into cfg.Modules, the rest into its section. A module the binary does
// not know, or a key neither the platform nor its section has, is an
// error naming them all.
func (l *loader) applyModules(cfg *Config, nodes map[string]rawNode) error {
	var unknown []string
	for _, name := range sortedKeys(nodes) {
		n := nodes[name].node
		path := "modules." + name
		if !l.known[name] {
			unknown = append(unknown, fmt.Sprintf("%s (line %d): no such module; modules are %s", path, n.Line, strings.Join(l.modules, ", ")))
			continue
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		if n.Kind != yaml.MappingNode {
			unknown = append(unknown, fmt.Sprintf("%s (line %d): want a mapping", path, n.Line))
			continue
		}
		m := cfg.Modules[name]
		rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			switch key.Value {
			case "url":
				if err := value.Decode(&m.URL); err != nil {
					return fmt.Errorf("%s.url: %w", path, err)
				}
			case "database":
				unknown = append(unknown, unknownKeys(value, reflect.TypeFor[ModuleDatabase](), path+".database")...)
				if err := value.Decode(&m.Database); err != nil {
					return fmt.Errorf("%s.database: %w", path, err)
				}
			default:
				rest.Content = append(rest.Content, key, value)
			}
		}
		cfg.Modules[name] = m
		if len(rest.Content) == 0 {
			continue
		}
		section, ok := cfg.sections[name]
		if !ok {
			for i := 0; i < len(rest.Content); i += 2 {
				unknown = append(unknown, fmt.Sprintf("%s.%s (line %d): unknown key; %s has no settings of its own", path, rest.Content[i].Value, rest.Content[i].Line, name))
			}
			continue
		}
		bad := unknownKeys(rest, reflect.TypeOf(section), path)
		unknown = append(unknown, bad...)
		if len(bad) == 0 {
			if err := rest.Decode(section); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s", strings.Join(unknown, "\n"))
	}
	return nil
}

// unknownKeys lists the keys of node that type t (a struct, map or slice,
// through pointers) has no place for, by their path, recursively.
func unknownKeys(node *yaml.Node, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch {
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i]
			ft, ok := fields[key.Value]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s (line %d): unknown key", path, key.Value, key.Line))
				continue
			}
			out = append(out, unknownKeys(node.Content[i+1], ft, path+"."+key.Value)...)
		}
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(node.Content); i += 2 {
			out = append(out, unknownKeys(node.Content[i+1], t.Elem(), path+"."+node.Content[i].Value)...)
		}
	case node.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range node.Content {
			out = append(out, unknownKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// yamlFields maps a struct's YAML keys to their fields' types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
