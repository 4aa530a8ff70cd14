package apidoc

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// fragmentKeys are what a module's part of the document may hold: its
// tags, its paths and its components (schemas, parameters, ...).
var fragmentKeys = map[string]bool{"tags": true, "paths": true, "components": true}

// merge adds each fragment to doc (the base document: the info and the
// routes every process serves): tags appended, paths and components added.
// A path, component or tag two parts both declare is an error naming it,
// as is a key a fragment may not hold; one part never overrides another.
func merge(doc map[string]any, fragments ...[]byte) error {
	for i, raw := range fragments {
		var frag map[string]any
		if err := yaml.Unmarshal(raw, &frag); err != nil {
			return fmt.Errorf("openapi fragment %d: %w", i+1, err)
		}
		for _, key := range sortedKeys(frag) {
			if !fragmentKeys[key] {
				return fmt.Errorf("openapi fragment %d: %q is not for a module's part (tags, paths, components)", i+1, key)
			}
		}
		if err := mergeTags(doc, frag["tags"]); err != nil {
			return fmt.Errorf("openapi fragment %d: %w", i+1, err)
		}
		if err := mergeMap(doc, "paths", frag["paths"], "path"); err != nil {
			return fmt.Errorf("openapi fragment %d: %w", i+1, err)
		}
		comps, _ := frag["components"].(map[string]any)
		if frag["components"] != nil && comps == nil {
			return fmt.Errorf("openapi fragment %d: components is not a mapping", i+1)
		}
		base := child(doc, "components")
		for _, kind := range sortedKeys(comps) {
			if err := mergeMap(base, kind, comps[kind], "component "+kind); err != nil {
				return fmt.Errorf("openapi fragment %d: %w", i+1, err)
			}
		}
	}
	return nil
}

// mergeMap adds the entries of add to doc[key], refusing one already there.
func mergeMap(doc map[string]any, key string, add any, what string) error {
	if add == nil {
		return nil
	}
	entries, ok := add.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is not a mapping", key)
	}
	dst := child(doc, key)
	for _, name := range sortedKeys(entries) {
		if _, dup := dst[name]; dup {
			return fmt.Errorf("%s %s is declared twice", what, name)
		}
		dst[name] = entries[name]
	}
	return nil
}

// mergeTags appends tags to doc's, refusing a name already there.
func mergeTags(doc map[string]any, add any) error {
	if add == nil {
		return nil
	}
	tags, ok := add.([]any)
	if !ok {
		return fmt.Errorf("tags is not a list")
	}
	have, _ := doc["tags"].([]any)
	for _, t := range tags {
		tag, _ := t.(map[string]any)
		name, _ := tag["name"].(string)
		if name == "" {
			return fmt.Errorf("a tag has no name")
		}
		for _, h := range have {
			if h, _ := h.(map[string]any); h["name"] == name {
				return fmt.Errorf("tag %s is declared twice", name)
			}
		}
		have = append(have, t)
	}
	doc["tags"] = have
	return nil
}

// child returns doc[key] as a mapping, making it if absent.
func child(doc map[string]any, key string) map[string]any {
	m, ok := doc[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc[key] = m
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
