package app

import (
	"time"

	"mitosis/platform/config"
)

// Settings configure the order saga: how long an order may take to settle,
// how much of that a placing request waits, and the recovery worker. They
// are orders' section of the configuration: modules.orders in YAML,
// SAGA_* in the environment.
type Settings struct {
	// Deadline is how long after placement an order's forward steps may
	// still run; past it, the saga compensates and cancels the order.
	Deadline time.Duration `yaml:"deadline" env:"DEADLINE"`
	// InlineTimeout caps how long a request runs the saga before answering
	// with the order still pending.
	InlineTimeout time.Duration `yaml:"inline_timeout" env:"INLINE_TIMEOUT"`
	// RecoveryInterval is how often the worker looks for due sagas.
	RecoveryInterval time.Duration `yaml:"recovery_interval" env:"RECOVERY_INTERVAL"`
	// Lease is how long a runner holds a saga between two steps.
	Lease time.Duration `yaml:"lease" env:"LEASE"`
	// BackoffMax caps the delay before a step that failed is tried again.
	BackoffMax time.Duration `yaml:"backoff_max" env:"BACKOFF_MAX"`
}

// Section declares the settings for module (orders), with their defaults
// in every environment.
func Section(module string) config.Section {
	return config.NewSection(module, "SAGA", func(string) Settings {
		return Settings{Deadline: time.Minute, InlineTimeout: 3 * time.Second, RecoveryInterval: time.Second,
			Lease: 10 * time.Second, BackoffMax: 10 * time.Second}
	})
}

// Validate lists every problem of the settings, one line each.
func (s *Settings) Validate() []string {
	var errs []string
	if s.Deadline <= 0 || s.InlineTimeout <= 0 || s.RecoveryInterval <= 0 || s.BackoffMax <= 0 {
		errs = append(errs, "SAGA_DEADLINE, SAGA_INLINE_TIMEOUT, SAGA_RECOVERY_INTERVAL and SAGA_BACKOFF_MAX must be positive")
	}
	if s.Lease < time.Second {
		errs = append(errs, "SAGA_LEASE must be at least 1s")
	}
	return errs
}
