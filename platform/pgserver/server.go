// Package pgserver runs a private PostgreSQL server from the binaries
// installed on the machine. The app uses it as its embedded default database
// when DATABASE_URL is unset, and tests use it for throwaway clusters.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Options configures Start.
type Options struct {
	// Dir is the base directory; the cluster lives in Dir/data, the log in
	// Dir/postgres.log and the superuser password in Dir/superuser.password.
	// It is created if missing and may be relocated, see ResolveDir.
	Dir string
	// Fsync keeps PostgreSQL's durability settings. Tests set it to false,
	// trading crash safety for speed.
	Fsync bool
	// Logger receives where the data lives; nil means slog.Default().
	Logger *slog.Logger
	// BinDir holds initdb, pg_ctl and postgres; empty means FindBinaries().
	BinDir string
	// Attach lets Start use a server another live process runs on Dir (a
	// CLI command beside `app serve`) instead of failing. The attached
	// Server never stops it: its owner does. A server whose owner is gone
	// (killed before it could stop it) is stopped and started afresh,
	// attach or not, so this process owns it and stops it.
	Attach bool
}

// Server is a running PostgreSQL cluster started by Start.
type Server struct {
	c        *cluster
	port     int
	password string
	pm       *postmaster // nil when attached

	mu       sync.Mutex
	stopped  bool
	attached bool
}

// Start initialises the cluster on first use, starts it on a free loopback
// port and returns once it accepts connections. The data and superuser
// password are kept across restarts on the same Dir.
func Start(ctx context.Context, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Dir == "" {
		return nil, errors.New("pgserver: Options.Dir is empty")
	}
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindBinaries(); err != nil {
			return nil, err
		}
	}
	id, err := serverIdentity()
	if err != nil {
		return nil, err
	}
	dir, reason, err := resolveDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		logger.Warn("postgres data moved out of the preferred directory", "preferred", opts.Dir, "dir", dir, "reason", reason)
	}
	c := &cluster{
		binDir:  binDir,
		id:      id,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logFile: filepath.Join(dir, "postgres.log"),
		fsync:   opts.Fsync,
	}
	password, err := prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	if up, err := c.running(ctx); err != nil {
		return nil, err
	} else if up {
		owner, alive := c.ownerAlive()
		switch {
		case alive && opts.Attach:
			return attach(ctx, c, password, logger)
		case alive:
			return nil, fmt.Errorf("another PostgreSQL instance is already using %s; stop it first (pg_ctl stop -D %s)", dir, c.dataDir)
		}
		// Its owner died without stopping it: take it over.
		logger.Warn("postgres left running by a process that is gone: stopping it to start it as this process's",
			"dir", dir, "owner_pid", owner)
		if err := c.stop(ctx); err != nil {
			return nil, err
		}
	}
	port, pm, err := c.start(ctx, 0)
	if err != nil {
		return nil, err
	}
	s := &Server{c: c, port: port, password: password, pm: pm}
	if err := c.claim(); err != nil {
		return nil, errors.Join(err, s.Stop(ctx))
	}
	if err := waitReady(ctx, s.URL("postgres")); err != nil {
		// Don't leave an orphaned server behind a failed Start.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
		defer cancel()
		return nil, errors.Join(err, s.Stop(stopCtx))
	}
	logger.Info("postgres started", "dir", dir, "port", port, "log", c.logFile)
	return s, nil
}

// attach returns the server another process runs on c, found through the
// port in its postmaster.pid.
func attach(ctx context.Context, c *cluster, password string, logger *slog.Logger) (*Server, error) {
	port, err := c.runningPort()
	if err != nil {
		return nil, err
	}
	s := &Server{c: c, port: port, password: password, attached: true}
	if err := waitReady(ctx, s.URL("postgres")); err != nil {
		return nil, err
	}
	logger.Info("postgres already running: attached to it; it stops with the process that started it", "dir", c.dir, "port", port)
	return s, nil
}

// prepare creates the directories and, on first use, the cluster; it
// returns the superuser password.
func prepare(ctx context.Context, c *cluster) (string, error) {
	if err := ensureDir(c.id, c.dir, true); err != nil {
		return "", err
	}
	if err := ensureDataDir(c); err != nil {
		return "", err
	}
	password, err := loadPassword(c.dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		if password == "" {
			return "", fmt.Errorf("cluster in %s exists but %s is missing; remove %s to start afresh",
				c.dataDir, filepath.Join(c.dir, passwordFile), c.dir)
		}
		return password, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("check cluster: %w", err)
	}
	if password == "" {
		if password, err = createPassword(c.dir); err != nil {
			return "", err
		}
	}
	pwfile, err := writePwfile(c.id, c.dir, password)
	if err != nil {
		return "", err
	}
	defer os.Remove(pwfile)
	return password, c.initdb(ctx, pwfile)
}

// ensureDataDir creates Dir/data owned by the server user; initdb accepts an
// existing empty directory, and creating it ourselves lets root hand it over.
func ensureDataDir(c *cluster) error {
	if err := os.Mkdir(c.dataDir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return fmt.Errorf("create data directory: %w", err)
	}
	return c.id.chown(c.dataDir)
}

// URL returns a superuser connection URL for database.
func (s *Server) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Dir returns the base directory actually used, which differs from
// Options.Dir when ResolveDir moved it.
func (s *Server) Dir() string { return s.c.dir }

// Stop shuts the server down. Calling it again is a no-op.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.attached {
		return nil
	}
	if err := s.c.stop(ctx); err != nil {
		return err
	}
	if err := s.pm.wait(ctx); err != nil {
		return err
	}
	s.c.release()
	s.stopped = true
	return nil
}

// Restart stops the server (fast mode, aborting open sessions) and starts it
// again on the same port and data, returning once it accepts connections;
// clients see the connection loss a real database restart causes. An
// attached server is not this process's to restart.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attached {
		return errors.New("pgserver: an attached server is restarted by the process that started it")
	}
	if !s.stopped {
		if err := s.c.stop(ctx); err != nil {
			return err
		}
		if err := s.pm.wait(ctx); err != nil {
			return err
		}
		s.stopped = true
	}
	_, pm, err := s.c.start(ctx, s.port)
	if err != nil {
		return err
	}
	if err := s.c.claim(); err != nil {
		return err
	}
	s.pm, s.stopped = pm, false
	return waitReady(ctx, s.URL("postgres"))
}
