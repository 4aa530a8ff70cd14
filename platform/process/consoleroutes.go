package process

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"mitosis/platform/events"
	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
	"mitosis/platform/transport"
)

// tracesLimit bounds one list of recent traces.
const tracesLimit = 200

// recentTraces answers /admin/v1/traces: this process's part of recent
// traces, or of the one named by trace_id. With TRACING=off it keeps none.
func recentTraces(c echo.Context, ring *telemetry.Ring) error {
	if ring == nil {
		return c.JSON(http.StatusOK, map[string]any{"enabled": false, "traces": []any{}})
	}
	q := c.QueryParams()
	if id := q.Get("trace_id"); id != "" {
		return c.JSON(http.StatusOK, map[string]any{"enabled": true, "spans": nonNil(ring.Trace(id))})
	}
	f := telemetry.Filter{ErrorsOnly: q.Get("errors") == "true", Service: q.Get("module"), HideProbes: q.Get("probes") != "true",
		Limit: tracesLimit}
	var bad []problem.FieldError
	for name, dst := range map[string]*float64{"min_ms": &f.MinMS, "max_ms": &f.MaxMS} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n < 0 {
				bad = append(bad, problem.FieldError{Field: name, Message: "must be a number of milliseconds"})
			}
			*dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > tracesLimit {
			bad = append(bad, problem.FieldError{Field: "limit", Message: "must be between 1 and 200"})
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		return &problem.ValidationError{Fields: bad}
	}
	return c.JSON(http.StatusOK, map[string]any{"enabled": true, "traces": ring.Recent(f)})
}

func nonNil(s []telemetry.Span) []telemetry.Span {
	if s == nil {
		return []telemetry.Span{}
	}
	return s
}

// replay answers POST /admin/v1/events/replay.
func replay(c echo.Context, m *events.Metrics) error {
	var in struct {
		Module string `json:"module"`
		ID     string `json:"id"`
	}
	if err := transport.Bind(c, &in); err != nil {
		return err
	}
	if in.Module == "" {
		return problem.Invalid("module", "is required")
	}
	if in.ID != "" {
		if _, err := uuid.Parse(in.ID); err != nil {
			return problem.Invalid("id", "must be an event id (a UUID)")
		}
	}
	n, err := m.ReplayIn(c.Request().Context(), in.Module, in.ID)
	if errors.Is(err, events.ErrNoOutbox) {
		return problem.Invalid("module", "has no outbox in this process")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"replayed": n})
}
