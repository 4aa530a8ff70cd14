package config

import "strings"

// Problems lists everything wrong with a configuration, one line each, so
// an operator fixes them all in one go instead of one per restart.
type Problems []string

// Error is the problems one per line.
func (p Problems) Error() string { return strings.Join(p, "\n") }
