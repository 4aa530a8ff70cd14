package httpserver

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"mitosis/platform/auth"
	"mitosis/platform/db"
	"mitosis/platform/problem"
	"mitosis/platform/transport"
)

// ErrorHandler is the one place errors become HTTP answers: coded errors keep
// their status and code, echo's own errors are translated, and anything else
// is a 500 logged with its cause and answered without internals, except a
// lost database connection, which is a 503 with Retry-After.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var d problem.Details
		d, err = answer(err)
		if d.Status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", "1")
		}
		d.Instance = c.Request().URL.Path
		if d.Status >= 500 && !errors.Is(err, ErrClosing) { // a late request is no failure
			ctx := c.Request().Context()
			if transport.RequestID(ctx) == "" { // answered before RequestContext ran
				ctx = transport.WithRequestID(ctx, c.Response().Header().Get(echo.HeaderXRequestID))
			}
			attrs := []any{"method", c.Request().Method, "path", d.Instance, "status", d.Status, "err", err}
			if caller := auth.Caller(ctx); caller != "" {
				attrs = append(attrs, "caller", caller) // the module whose internal call failed
			}
			log.ErrorContext(ctx, "request failed", attrs...)
		}
		WriteProblem(c.Response(), d)
	}
}

// answer is the problem err is answered with (the access log names its
// code), and err with echo's own errors translated.
func answer(err error) (problem.Details, error) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		err = fromEcho(he)
	}
	d := problem.From(err)
	if d.Code == problem.ErrInternal.Code && db.Unavailable(err) {
		// The database is down or restarting: the client may retry.
		d = problem.From(problem.ErrUnavailable)
		d.Detail = "The database is unreachable; retry shortly."
	}
	return d, err
}

// WriteProblem writes an RFC 9457 body. A 503 says when to retry.
func WriteProblem(w http.ResponseWriter, d problem.Details) {
	if d.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", problem.ContentType)
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

func fromEcho(he *echo.HTTPError) error {
	switch he.Code {
	case http.StatusNotFound:
		return problem.ErrNotFound
	case http.StatusMethodNotAllowed:
		return problem.ErrMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return problem.ErrTooLarge
	case http.StatusUnsupportedMediaType:
		return problem.ErrUnsupportedMedia
	case http.StatusUnauthorized:
		return problem.ErrUnauthorized
	case http.StatusBadRequest:
		return problem.ErrBadRequest
	case http.StatusServiceUnavailable:
		return problem.ErrUnavailable
	}
	if he.Code >= 400 && he.Code < 500 {
		return problem.New("http_"+http.StatusText(he.Code), he.Code, http.StatusText(he.Code))
	}
	if he.Internal != nil {
		return he.Internal
	}
	return problem.ErrInternal
}
