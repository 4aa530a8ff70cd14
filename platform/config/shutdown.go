package config

import "time"

// Shutdown configures how a process stops on SIGTERM: it keeps serving for
// Delay, with /health/ready already answering 503, so load balancers stop
// sending it requests; then in-flight requests and workers have Timeout to
// finish.
type Shutdown struct {
	Delay   time.Duration `yaml:"delay"`
	Timeout time.Duration `yaml:"timeout"`
}

// Unless set, the delay depends on the environment: in production a load
// balancer may still send requests for a few seconds after SIGTERM; in
// development nothing does, and Ctrl-C should stop at once.
const (
	defaultShutdownDelayProduction = 5 * time.Second
	// unsetDelay marks a delay that no layer of the configuration set.
	unsetDelay time.Duration = -1
)

func (s Shutdown) validate() []string {
	var errs []string
	if s.Delay < 0 {
		errs = append(errs, "SHUTDOWN_DELAY must not be negative")
	}
	if s.Timeout <= 0 {
		errs = append(errs, "SHUTDOWN_TIMEOUT must be positive")
	}
	return errs
}

// defaultDelay gives the delay its environment's default where nothing set it.
func (c *Config) defaultDelay() {
	if c.Shutdown.Delay != unsetDelay {
		return
	}
	c.Shutdown.Delay = 0
	if c.IsProduction() {
		c.Shutdown.Delay = defaultShutdownDelayProduction
	}
}
