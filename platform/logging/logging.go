// Package logging builds the process's logger (log/slog): JSON lines or
// text (LOG_FORMAT) at LOG_LEVEL, every line of a request carrying its
// trace_id, span_id, request_id and module from the context, and a
// throttle that logs a repeated failure once per interval with a count.
//
// Log calls inside a request pass its context (InfoContext, WarnContext,
// ...), which is where the handler finds those ids. A module's logger
// already names it (topology gives each local module its own, with
// module=<name>); the context names the module whose route a request took,
// for the lines platform code writes on its behalf.
package logging

import (
	"io"
	"log/slog"

	"mitosis/platform/config"
)

// New returns the logger of cfg's format and level, writing to w.
func New(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: Level(cfg.Log.Level)}
	var inner slog.Handler
	if cfg.LogFormat() == config.LogJSON {
		inner = slog.NewJSONHandler(w, opts)
	} else {
		inner = slog.NewTextHandler(w, opts)
	}
	return slog.New(NewHandler(inner))
}

// Level parses debug, info, warn or error; anything else is info
// (configuration validation refuses it before it gets here).
func Level(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
