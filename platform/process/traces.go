package process

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"mitosis/platform/problem"
	"mitosis/platform/telemetry"
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
	f := telemetry.Filter{ErrorsOnly: q.Get("errors") == "true", Service: q.Get("module"), Limit: tracesLimit}
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
