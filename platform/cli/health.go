package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// readyPath is the readiness route every process serves.
const readyPath = "/health/ready"

// healthCommand is `app health`: a probe for container healthchecks, since
// the image has no shell or curl. It asks /health/ready of the process this
// configuration runs (HTTP_ADDR on loopback) or of --url, and fails unless
// the answer is 200.
func healthCommand(env Env) *cobra.Command {
	var base string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Probe " + readyPath + " of a running process: exit 0 when it answers 200, 1 otherwise",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if base == "" {
				cfg, err := env.configOnly()
				if err != nil {
					return err
				}
				if base, err = loopbackURL(cfg.HTTPAddr); err != nil {
					return err
				}
			}
			target, err := readyURL(base)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			status, err := probe(ctx, target)
			if err != nil {
				return fmt.Errorf("not ready: %w", err)
			}
			if status != http.StatusOK {
				return fmt.Errorf("not ready: %s answered %d %s", target, status, http.StatusText(status))
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ready: %s answered 200\n", target)
			return err
		},
	}
	cmd.Flags().StringVar(&base, "url", "", "base URL of the process to probe (default: this configuration's HTTP_ADDR on loopback)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

func probe(ctx context.Context, target string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	// No proxy from the environment: the probe is for this host's process.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// loopbackURL is the base URL of a server listening on addr, reached from
// the same host: an unspecified host (":8080", "0.0.0.0:8080") is loopback.
func loopbackURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	if port == "0" {
		return "", errors.New("HTTP_ADDR picks a free port (:0): pass --url")
	}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.Equal(net.IPv4zero)):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func readyURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url must be http(s)://host[:port], got %q", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + readyPath
	return u.String(), nil
}
