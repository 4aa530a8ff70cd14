package config

import (
	"fmt"
	"strconv"
)

// Recording configures what each process records of its requests for
// `app advise`: every request is counted per route, and one in Every is
// recorded in full (each contract call it made, how often, how deeply
// nested, and the bytes each carried). 0 turns both off.
type Recording struct {
	Every uint64 `yaml:"every"`
}

// applyRecordingEnv reads RECORD_EVERY; it returns the error of a value
// that does not parse.
func applyRecordingEnv(r *Recording, getenv Getenv) []string {
	v, ok := lookup(getenv, "RECORD_EVERY")
	if !ok {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return []string{fmt.Sprintf("RECORD_EVERY must be 0 (off) or a positive integer, got %q", v)}
	}
	r.Every = n
	return nil
}
