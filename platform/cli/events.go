package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/uptrace/bun"

	"mitosis/platform/config"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/preflight"
)

func eventsCommand(env Env) *cobra.Command {
	var module string
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the outbox lag and dead letters of the local modules, and replay them",
	}
	cmd.PersistentFlags().StringVar(&module, "module", "", "act on this module only (default: every local module)")
	status := &cobra.Command{
		Use: "status", Short: "Per module and subscriber: undelivered events, the oldest one's age, dead letters; with NATS, each consumer's backlog",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MODULE\tSUBSCRIBER\tPENDING\tOLDEST\tDEAD")
			err := env.forEachModuleDB(cmd.Context(), module, func(ctx context.Context, bdb *bun.DB, name string) error {
				lags, unfanned, err := events.Status(ctx, bdb)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if unfanned > 0 {
					fmt.Fprintf(w, "%s\t(not yet fanned out or published)\t%d\t-\t-\n", name, unfanned)
				}
				for _, l := range lags {
					age := "-"
					if !l.OldestPending.IsZero() {
						age = time.Since(l.OldestPending).Round(time.Second).String()
					}
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\n", name, l.Subscriber, l.Pending, age, l.Dead)
				}
				if unfanned == 0 && len(lags) == 0 {
					fmt.Fprintf(w, "%s\t-\t0\t-\t0\n", name)
				}
				return nil
			})
			if err == nil {
				err = env.brokerLag(cmd.Context(), w, module)
			}
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	dead := &cobra.Command{
		Use: "dead", Short: "List the dead letters: deliveries that gave up",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MODULE\tID\tTYPE\tAGGREGATE\tSUBSCRIBER\tATTEMPTS\tLAST ERROR")
			err := env.forEachModuleDB(cmd.Context(), module, func(ctx context.Context, bdb *bun.DB, name string) error {
				list, err := events.DeadLetters(ctx, bdb)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for _, d := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%.120s\n", name, d.ID, d.Type, d.AggregateID, d.Subscriber, d.Attempts, d.LastError)
				}
				return nil
			})
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	var id string
	var all bool
	replay := &cobra.Command{
		Use: "replay (--id ID | --all)", Short: "Put dead letters back in line for delivery",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (id == "") == !all {
				return errors.New("events replay needs exactly one of --id or --all")
			}
			if id != "" && uuid.Validate(id) != nil {
				return fmt.Errorf("--id %q is not an event id (a UUID)", id)
			}
			return env.forEachModuleDB(cmd.Context(), module, func(ctx context.Context, bdb *bun.DB, name string) error {
				n, err := events.Replay(ctx, bdb, id)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d dead letter(s) back in line\n", name, n)
				return nil
			})
		},
	}
	replay.Flags().StringVar(&id, "id", "", "the event id to replay")
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	cmd.AddCommand(status, dead, replay)
	return cmd
}

// forEachModuleDB connects to each selected local module's data as the
// module itself (its schema first on the search path) and runs act.
func (env Env) forEachModuleDB(ctx context.Context, only string, act func(context.Context, *bun.DB, string) error) error {
	cfg, log, err := env.loadFor(preflight.Maintain)
	if err != nil {
		return err
	}
	local, err := selectModules(env.Specs, cfg, only)
	if err != nil {
		return err
	}
	cluster, err := openCluster(ctx, cfg, local, log)
	if err != nil {
		return err
	}
	defer cluster.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // best effort at exit
	for _, name := range local {
		t, err := db.TargetFor(cfg, cluster, name)
		if err != nil {
			return err
		}
		bdb, err := db.Open(t, 2)
		if err != nil {
			return err
		}
		err = act(ctx, bdb, name)
		_ = bdb.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// brokerLag adds, with EVENTS_BROKER=nats, a row per local subscriber
// module: the events its durable consumer has not yet acknowledged.
func (env Env) brokerLag(ctx context.Context, w io.Writer, only string) error {
	cfg, _, err := env.loadFor(preflight.Maintain)
	if err != nil || cfg.Events.Broker != config.BrokerNATS {
		return err
	}
	local, err := selectModules(env.Specs, cfg, only)
	if err != nil {
		return err
	}
	lags, err := events.ConsumerLag(ctx, cfg.Events.NATSURL, local)
	if err != nil {
		return err
	}
	for _, name := range local {
		if n, ok := lags[name]; ok {
			fmt.Fprintf(w, "%s\t(nats consumer)\t%d\t-\t-\n", name, n)
		}
	}
	return nil
}
