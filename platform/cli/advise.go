package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"mitosis/platform/advise"
	"mitosis/platform/process"
)

// adviseCommand is `app advise`: what each candidate placement of the
// modules would add to the public routes, predicted from what running
// processes recorded and from the measured cost of one hop.
func adviseCommand(env Env) *cobra.Command {
	var (
		from, separate []string
		format         string
		calls          int
		hop, hopCPU    time.Duration
		pause          time.Duration
		peer, system   bool
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "advise",
		Short: "Predict what splitting the modules would add to each public route, from the records of running processes",
		Long: "Reads the requests each process recorded (RECORD_EVERY: the contract calls per route, fan-out, depth, bytes) from its\n" +
			"admin listener, measures one contract call over HTTP there (the hop probe, with each edge's recorded sizes) unless --hop\n" +
			"gives it, and prints for each candidate placement the added latency per route (p50, p99), the added CPU per second, the\n" +
			"calls and bytes that would cross the network, and the edges to blame. Pass --from once per process of a split system,\n" +
			"or --system with the admin URL of one process (the console's): it reads itself and its ADMIN_PEERS.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format must be text or json, got %q", format)
			}
			if len(from) == 0 {
				cfg, err := env.configOnly()
				if err != nil {
					return err
				}
				if !cfg.Admin.Enabled() {
					return fmt.Errorf("ADMIN_ADDR is off: pass --from with the admin URL of a running process")
				}
				base, err := loopbackURL(cfg.Admin.Addr)
				if err != nil {
					return fmt.Errorf("ADMIN_ADDR: %w", err)
				}
				from = []string{base}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			client := advise.Admin{HTTP: &http.Client{Transport: &http.Transport{Proxy: nil}}}
			if system {
				if len(from) != 1 {
					return fmt.Errorf("--system reads the whole system through one process's admin API: pass --from once, got %d", len(from))
				}
				// Outside development the console's route wants an admin's
				// access token; from the environment, never the command line
				// (which every user of the host can read).
				client.Token = env.Getenv("ADMIN_TOKEN")
				return adviseSystem(ctx, cmd, client, from[0], separate, format)
			}
			procs, _, err := client.ReadAll(ctx, from)
			if err != nil {
				return err
			}
			sys := advise.Merge(procs)
			if len(sys.Routes) == 0 {
				return fmt.Errorf("at %v: %s", from, advise.NoRecords)
			}
			var hops advise.Hops = advise.FixedHop{Latency: hop, CPU: hopCPU}
			if hop == 0 {
				if pause == 0 {
					pause = advise.ProbePause(sys)
				}
				probed := &advise.Probed{Client: client, Base: from[0], Calls: calls, Pause: pause}
				// By default the process calls itself: on a quiet host a
				// round trip into a second, idle process paid a median 37%
				// more than a split's calls (BENCHMARKS.md, "Split
				// advisor"). The peer is on this host's loopback: a process
				// elsewhere probes itself whatever is asked.
				if peer && advise.OnLoopback(from[0]) {
					cfg, err := env.configOnly()
					if err != nil {
						return err
					}
					p, err := process.StartPeer(cfg)
					if err != nil {
						return err
					}
					defer func() { _ = p.Stop(context.Background()) }()
					probed.Target = p.URL()
				}
				hops = probed
			}
			report, err := advise.Advise(ctx, sys, hops, separate)
			if err != nil {
				return err
			}
			report.Processes = from
			return printAdvice(cmd, format, report, report)
		},
	}
	cmd.Flags().StringSliceVar(&from, "from", nil, "admin URL of a running process, once per process (default: this configuration's ADMIN_ADDR on loopback)")
	cmd.Flags().StringSliceVar(&separate, "separate", nil, "modules that must run apart (a,b): adds the placement that separates them at the least added latency")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().IntVar(&calls, "probe-calls", 200, "round trips the hop probe times per size")
	cmd.Flags().DurationVar(&pause, "probe-pause", 0, "time between two round trips of the probe, so that each finds both ends as idle as real calls do (default: the recorded interval between two calls of the busiest edge, 1ms to 10ms)")
	cmd.Flags().BoolVar(&peer, "probe-peer", false, "probe from the process to a server in this command's process (a hop between two processes); by default the process calls itself, which comes closer to what a split's calls pay (BENCHMARKS.md, \"Split advisor\")")
	cmd.Flags().DurationVar(&hop, "hop", 0, "the latency of one call over HTTP, instead of measuring it")
	cmd.Flags().DurationVar(&hopCPU, "hop-cpu", 0, "with --hop: the CPU one call over HTTP costs, both ends")
	cmd.Flags().BoolVar(&system, "system", false, "ask the process at --from for the whole system it sees (itself and its ADMIN_PEERS, as the console does); the hop is measured there; outside development ADMIN_TOKEN holds an admin's access token")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	return cmd
}

// adviseSystem prints the console's advice on the whole system, read
// through the admin API of the process at base, and names the processes
// that did not answer (their records are left out).
func adviseSystem(ctx context.Context, cmd *cobra.Command, client advise.Admin, base string, separate []string, format string) error {
	r, err := client.System(ctx, base, separate)
	if err != nil {
		return err
	}
	if r.Note != "" {
		return fmt.Errorf("at %s: %s", base, r.Note)
	}
	for _, u := range r.Unreachable {
		fmt.Fprintf(cmd.ErrOrStderr(), "not answering, its records left out: %s\n", u)
	}
	return printAdvice(cmd, format, r, r.Report)
}

// printAdvice writes asJSON as indented JSON (--format json), or the
// report as text.
func printAdvice(cmd *cobra.Command, format string, asJSON any, report advise.Report) error {
	if format == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(asJSON)
	}
	return advise.Print(cmd.OutOrStdout(), report)
}
