package config

import (
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Section declares one module's own settings: a typed value that starts
// from the module's defaults, is decoded from modules.<module> in the YAML
// files (beside the url and database every module has), then from the
// environment: each field tagged `env:"KEY"` is read from <Prefix>_KEY.
// The platform loads every section alike and knows none of them (as
// Weaver's weaver.WithConfig[T] and Encore's per-service config do).
//
// A section whose pointer has a method Validate() []string has its
// problems listed with the rest; one with ApplyEnv(Lookup) []string reads
// what tags cannot express (a variable per entry of a map), after the tags.
type Section struct {
	Module string
	Prefix string
	// Isolation, if set, is the module's default database isolation
	// (Isolated: a database of its own), under what the files and
	// <MODULE>_DATABASE_ISOLATION say; a section may declare only this.
	Isolation string
	// fresh returns a pointer to a new value holding the defaults of an
	// environment, so no two loads share a map.
	fresh func(env string) any
}

// Lookup reads an environment variable, an empty one counting as unset.
type Lookup func(key string) (string, bool)

// NewSection declares module's settings of type T (a struct), read from
// the environment under prefix; defaults makes a value holding the
// defaults of an environment (Development or Production), once per load.
func NewSection[T any](module, prefix string, defaults func(env string) T) Section {
	return Section{Module: module, Prefix: prefix, fresh: func(env string) any {
		v := defaults(env)
		return &v
	}}
}

// SectionOf returns module's settings as loaded: the module's provider
// hands them to its constructors. Without a loaded section (a Config built
// by hand in a test) it is T's zero value.
func SectionOf[T any](c Config, module string) T {
	if v, ok := c.sections[module].(*T); ok {
		return *v
	}
	var zero T
	return zero
}

// WithSection returns a copy of c holding v as module's settings, for
// tests that build a Config by hand.
func WithSection[T any](c Config, module string, v T) Config {
	out := c
	out.sections = map[string]any{}
	for k, s := range c.sections {
		out.sections[k] = s
	}
	out.sections[module] = &v
	return out
}

// applySectionEnv sets the tagged fields of the struct v points at from
// <prefix>_<tag>, and lists the values it could not parse.
func applySectionEnv(prefix string, v any, lookup Lookup) []string {
	var errs []string
	rv := reflect.ValueOf(v).Elem()
	if rv.Kind() != reflect.Struct {
		return nil
	}
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		tag := f.Tag.Get("env")
		if tag == "" || !f.IsExported() {
			continue
		}
		key := prefix + "_" + tag
		raw, ok := lookup(key)
		if !ok {
			continue
		}
		if err := setField(rv.Field(i), raw); err != nil {
			errs = append(errs, fmt.Sprintf("%s %s, got %q", key, err, raw))
		}
	}
	if hook, ok := v.(interface{ ApplyEnv(Lookup) []string }); ok {
		errs = append(errs, hook.ApplyEnv(lookup)...)
	}
	return errs
}

var durationType = reflect.TypeFor[time.Duration]()

// setField parses raw into field, by the field's type; the error says
// what the value must look like.
func setField(field reflect.Value, raw string) error {
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("must be a duration like 5s")
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(raw)
	case field.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		field.SetInt(int64(n))
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		field.SetBool(b)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		field.Set(reflect.ValueOf(splitList(raw)).Convert(field.Type()))
	default:
		return fmt.Errorf("has a type (%s) no variable can set", field.Type())
	}
	return nil
}

// validateSection lists the problems of a section that validates itself.
func validateSection(v any) []string {
	if val, ok := v.(interface{ Validate() []string }); ok {
		return val.Validate()
	}
	return nil
}
