package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// BatchPath receives several events for one subscriber at once, the
// module named in the path, under the same service credentials as
// InternalPath. The body is {"events": [envelope, ...]}, at most
// MaxBatchEvents of them within the server's body limit; the answer, 200,
// is {"failed": [{"index", "id", "problem"}]}: the events not applied, by
// their index in the request, each with its problem (RFC 9457, coded as
// the one-event route answers it). Every other event was applied, or was
// already. A request refused as a whole (credentials, body, subscriber)
// answers its problem with its status, and nothing of it was applied.
const BatchPath = InternalPath + "/batch"

// MaxBatchEvents is the most events one batch request may carry.
const MaxBatchEvents = 1000

// maxBatchBytes bounds the encoded events of one batch request: half the
// server's body limit, so the envelope around them always fits and one
// request stays short.
const maxBatchBytes = transport.MaxBodyBytes / 2

func batchPath(subscriber string) string { return internalPath(subscriber) + "/batch" }

type batchRequest struct {
	Events []json.RawMessage `json:"events"`
}

type batchAnswer struct {
	Failed []batchFailure `json:"failed"`
}

type batchFailure struct {
	Index   int             `json:"index"`
	ID      string          `json:"id,omitempty"`
	Problem problem.Details `json:"problem"`
}

// knownErrors decodes the codes of a batch answer's problems.
var knownErrors = problem.Registry(Errors...)

// receiveBatch serves BatchPath: each envelope is decoded and checked on
// its own, so one the inbox could not store fails alone, and the valid
// ones go to the subscriber in one Bus.DeliverBatch.
func receiveBatch(b *Bus) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in batchRequest
		if err := transport.Bind(c, &in); err != nil {
			return err
		}
		switch {
		case len(in.Events) == 0:
			return problem.Invalid("events", "must hold at least one event")
		case len(in.Events) > MaxBatchEvents:
			return problem.Invalid("events", fmt.Sprintf("must hold at most %d events", MaxBatchEvents))
		}
		module := c.Param("subscriber")
		if !b.Has(module) {
			return fmt.Errorf("%s: %w", module, ErrUnknownSubscriber)
		}
		failed := make([]*batchFailure, len(in.Events))
		es, at := make([]Event, 0, len(in.Events)), make([]int, 0, len(in.Events))
		for i, raw := range in.Events {
			var e Event
			err := transport.Decode(bytes.NewReader(raw), &e)
			if err == nil {
				err = e.Validate()
			}
			if err != nil {
				failed[i] = &batchFailure{Index: i, Problem: problem.From(err)}
				continue
			}
			es, at = append(es, e.withCleanTrace()), append(at, i)
		}
		ctx := c.Request().Context()
		for k, err := range b.DeliverBatch(ctx, module, es) {
			if err != nil {
				failed[at[k]] = &batchFailure{Index: at[k], ID: es[k].ID, Problem: problem.From(err)}
				b.logFailure(ctx, module, es[k], err)
			}
		}
		out := batchAnswer{Failed: []batchFailure{}}
		for _, f := range failed {
			if f != nil {
				out.Failed = append(out.Failed, *f)
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}

// logFailure logs an event the batch endpoint answers as a server-side
// failure: its problem carries no cause, and the server's error handler
// sees only the request, which succeeded.
func (b *Bus) logFailure(ctx context.Context, module string, e Event, err error) {
	if b.log == nil || problem.From(err).Status < http.StatusInternalServerError {
		return
	}
	b.log.Log(ctx, slog.LevelWarn, "event handling failed", "subscriber", module, "type", e.Type, "id", e.ID, "err", err)
}

// deliverRemote POSTs batch to subscriber's BatchPath through c, in as
// few requests as MaxBatchEvents and maxBatchBytes allow. An event that
// could not go on the wire (it fails Validate, or its payload does not
// encode) fails alone, before anything is sent; a request that fails as a
// whole fails each of its events with its error.
func deliverRemote(ctx context.Context, c *transport.Client, subscriber string, batch []Event) []error {
	errs := make([]error, len(batch))
	var raws []json.RawMessage
	var at []int
	size := 0
	send := func() {
		if len(raws) == 0 {
			return
		}
		var ans batchAnswer
		err := c.Call(ctx, transport.Idempotent, http.MethodPost, batchPath(subscriber), batchRequest{Events: raws}, &ans)
		for _, i := range at {
			errs[i] = err
		}
		if err == nil {
			for _, f := range ans.Failed {
				if f.Index >= 0 && f.Index < len(at) {
					e := batch[at[f.Index]]
					errs[at[f.Index]] = fmt.Errorf("%s handling %s %s: %w", subscriber, e.Type, e.ID, problem.Decode(f.Problem, knownErrors))
				}
			}
		}
		raws, at, size = nil, nil, 0
	}
	for i, e := range batch {
		if err := e.Validate(); err != nil {
			errs[i] = err
			continue
		}
		raw, err := json.Marshal(e)
		if err != nil {
			errs[i] = fmt.Errorf("encode %s %s: %w", e.Type, e.ID, err)
			continue
		}
		if len(raws) == MaxBatchEvents || (len(raws) > 0 && size+len(raw) > maxBatchBytes) {
			send()
		}
		raws, at, size = append(raws, raw), append(at, i), size+len(raw)+1
	}
	send()
	return errs
}
