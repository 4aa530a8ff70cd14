package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// maxStatement bounds the statement text a span records.
const maxStatement = 4096

// TraceHook makes each SQL statement of a module a CLIENT span of its
// tracer, named by the statement's operation (SELECT, INSERT, BEGIN, ...).
// It records the statement's shape only: bun inlines every value into the
// text it sends, so the shape is rebuilt from the query with its
// placeholders, and never holds a value. Failures record the SQLSTATE,
// never the driver's message, which may quote a value.
//
// A statement is traced only inside a trace being recorded (a request, a
// saga step, an event's handling): the relays' and workers' polls alone
// would otherwise make a trace every few milliseconds.
//
// Why hand-written: bun's own bunotel is not served here; this is its core
// in sixty lines.
type TraceHook struct {
	tracer trace.Tracer
	schema string
}

// NewTraceHook traces the statements made on the schema with tracer.
func NewTraceHook(tracer trace.Tracer, schema string) *TraceHook {
	return &TraceHook{tracer: tracer, schema: schema}
}

type spanKey struct{}

// BeforeQuery starts the statement's span. The context is returned as it
// came: bun keeps BEGIN's context for the transaction's COMMIT, which must
// not become a child of BEGIN; the span waits in the event's stash.
func (h *TraceHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	shape := Shape(e)
	_, span := h.tracer.Start(ctx, operation(shape),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(e.StartTime),
		trace.WithAttributes(
			semconv.DBSystemNamePostgreSQL,
			semconv.DBNamespace(h.schema),
			semconv.DBOperationName(operation(shape)),
			semconv.DBQueryText(shape),
		))
	if e.Stash == nil {
		e.Stash = map[any]any{}
	}
	e.Stash[spanKey{}] = span
	return ctx
}

// AfterQuery ends the span, with the SQLSTATE of a failure.
func (h *TraceHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	span, ok := e.Stash[spanKey{}].(trace.Span)
	if !ok {
		return
	}
	if e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows) {
		code := "error"
		var pg *pgconn.PgError
		switch {
		case errors.As(e.Err, &pg):
			code = pg.Code
			span.SetAttributes(semconv.DBResponseStatusCode(pg.Code))
		case errors.Is(e.Err, context.DeadlineExceeded), errors.Is(e.Err, context.Canceled):
			code = "canceled"
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(code))
		span.SetStatus(codes.Error, code)
	}
	span.End()
}

// Shape is the statement of e with placeholders where bun put values.
func Shape(e *bun.QueryEvent) string {
	var shape string
	if e.IQuery != nil {
		b, err := e.IQuery.AppendQuery(schema.NewNopQueryGen(), nil)
		if err != nil {
			return operation(e.QueryTemplate)
		}
		shape = string(b)
	} else {
		// db.ExecContext and friends, BEGIN, COMMIT: the template is the
		// text as written, before its arguments were inlined.
		shape = e.QueryTemplate
	}
	if len(shape) > maxStatement {
		shape = shape[:maxStatement]
	}
	return shape
}

// operation is the statement's first keyword, upper case: bun names every
// raw query SELECT, whatever it does.
func operation(shape string) string {
	s := strings.TrimLeftFunc(shape, unicode.IsSpace)
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end >= 0 {
		s = s[:end]
	}
	if s == "" || len(s) > 16 {
		return "SQL"
	}
	return strings.ToUpper(s)
}
