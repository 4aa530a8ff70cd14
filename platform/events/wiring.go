package events

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"mitosis/platform/config"
	"mitosis/platform/health"
	"mitosis/platform/telemetry"
	"mitosis/platform/topology"
	"mitosis/platform/transport"
)

// InternalPath receives the events of one subscriber, the module named in
// the path: service credentials are made out to that module, as for every
// /internal/<module>/ route.
const InternalPath = "/internal/:subscriber/events"

// internalPath is where subscriber receives its events.
func internalPath(subscriber string) string { return "/internal/" + subscriber + "/events" }

// Module provides the process's bus and mounts the internal routes that
// remote relays deliver to.
var Module = fx.Module("events",
	fx.Provide(func(t *telemetry.Tracing, log *slog.Logger) *Bus { return NewBus().Traced(t).Logged(log) }, NewDeliverer, provideBroker, NewMetrics),
	fx.Invoke(Mount),
	fx.Invoke(func(reg prometheus.Registerer, m *Metrics) error { return reg.Register(m) }),
)

// Mount serves POST /internal/<subscriber>/events/batch (BatchPath), where
// relays deliver, and POST /internal/<subscriber>/events, one event, where
// the relays of an older binary deliver during a rolling upgrade; service
// credentials only, like every internal route.
func Mount(e *echo.Echo, b *Bus) {
	e.POST(BatchPath, receiveBatch(b))
	e.POST(InternalPath, func(c echo.Context) error {
		var in Event
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		if err := in.Validate(); err != nil {
			return err
		}
		if err := b.Deliver(c.Request().Context(), c.Param("subscriber"), in.withCleanTrace()); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

// NewDeliverer routes a batch by placement: to a local subscriber's
// handlers in one transaction (Bus.DeliverBatch), or as authenticated
// POSTs of BatchPath to a remote one. With a loopback (LOCAL_CALLS=strict)
// a local subscriber gets those same POSTs through this process's own
// handler: the envelopes are encoded and decoded with the wire's codec,
// and checked as remote ones are.
func NewDeliverer(b *Bus, place topology.Placement, f *transport.Factory, loop *transport.Loopback) DeliverBatchFunc {
	return func(ctx context.Context, subscriber string, batch []Event) []error {
		var c *transport.Client
		switch {
		case b.Has(subscriber) && loop == nil:
			return b.DeliverBatch(ctx, subscriber, batch)
		case b.Has(subscriber):
			c = loop.Client(subscriber, Errors...)
		case place.URL(subscriber) == "":
			errs := make([]error, len(batch))
			for i := range errs {
				errs[i] = fmt.Errorf("subscriber %s is neither local nor configured", subscriber)
			}
			return errs
		default:
			c = f.New(subscriber, place.URL(subscriber), Errors...)
		}
		// Idempotent: the subscriber's inbox makes a repeat harmless.
		return deliverRemote(ctx, c, subscriber, batch)
	}
}

// CheckBroker names the broker's check in the health of each module that
// publishes or subscribes through it.
const CheckBroker = "broker"

// provideBroker connects to NATS when EVENTS_BROKER=nats; with the
// PostgreSQL bus there is no broker (nil).
func provideBroker(lc fx.Lifecycle, cfg config.Config, tracing *telemetry.Tracing, log *slog.Logger) *Broker {
	if cfg.Events.Broker != config.BrokerNATS {
		return nil
	}
	b := NewBroker(cfg.Events, log).Traced(tracing)
	lc.Append(fx.StartStopHook(b.Start, b.Stop))
	return b
}

// needsBroker makes the broker part of module's readiness: without it the
// module can neither publish nor consume.
func needsBroker(checks *health.Registry, module string, b *Broker) {
	if b != nil && checks != nil {
		checks.Add(module, CheckBroker, b.Ping)
	}
}

// Outbox runs the relay of module's outbox while the app runs, woken by
// the module's commits to it (a Wake on the module's DB, provided to the
// module alone: see InTx). Used inside the module's own fx.Module, where
// its private *bun.DB is visible.
func Outbox(module string) fx.Option {
	return fx.Options(
		fx.Provide(fx.Private, NewWake),
		fx.Invoke(func(lc fx.Lifecycle, db *bun.DB, wake *Wake, place topology.Placement, deliver DeliverBatchFunc, broker *Broker, cfg config.Config,
			checks *health.Registry, m *Metrics, tracing *telemetry.Tracing, log *slog.Logger) {
			r := NewRelay(module, db, place.SubscribersOf, deliver, cfg.Events, log).Traced(tracing)
			if broker != nil {
				r = broker.Relay(module, db, log)
			} else {
				wake.FanOutOnWrite(place.SubscribersOf)
			}
			r.WokenBy(wake).Measured(m)
			m.Watch(module, db, place.Audience(module)...)
			needsBroker(checks, module, broker)
			lc.Append(fx.StartStopHook(r.Start, r.Stop))
		}))
}

type subscriberDeps struct {
	fx.In
	Lifecycle fx.Lifecycle
	Bus       *Bus
	DB        *bun.DB
	Place     topology.Placement
	Broker    *Broker `optional:"true"`
	// With a broker, the module's readiness needs it and its handling is
	// measured.
	Checks  *health.Registry `optional:"true"`
	Metrics *Metrics         `optional:"true"`
}

// Subscriber registers module's handlers, by event type, on the bus. Used
// inside the module's own fx.Module, so its inbox is on its own *bun.DB.
// The handlers must be exactly the types the module's Spec subscribes to:
// a publisher routes by the Spec, so a gap would dead-letter every event.
// With a broker, the module also consumes those types from the stream.
// opts give types a set-based form (BatchHandlers), each of a type the
// module handles.
func Subscriber(module string, handlers map[string]Handler, opts ...SubscriberOption) fx.Option {
	return fx.Invoke(func(d subscriberDeps) error {
		var have []string
		for typ := range handlers {
			have = append(have, typ)
		}
		sort.Strings(have)
		if want := d.Place.Subscriptions(module); !slices.Equal(have, want) {
			return fmt.Errorf("%s handles events %v but its Spec subscribes to %v", module, have, want)
		}
		var s subscriber
		for _, o := range opts {
			o(&s)
		}
		for typ := range s.batch {
			if _, ok := handlers[typ]; !ok {
				return fmt.Errorf("%s has a batch handler of %s but no handler: an event a batch cannot apply is applied alone", module, typ)
			}
		}
		d.Bus.Subscribe(module, d.DB, handlers, opts...)
		if d.Broker != nil {
			c := d.Broker.Consumer(module, have, d.Bus, d.DB)
			c.metrics = d.Metrics
			needsBroker(d.Checks, module, d.Broker)
			d.Lifecycle.Append(fx.Hook{OnStart: c.Start, OnStop: c.Stop})
		}
		return nil
	})
}
