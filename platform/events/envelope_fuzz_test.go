package events_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mitosis/platform/config"
	"mitosis/platform/events"
	"mitosis/platform/httpserver"
	"mitosis/platform/problem"
)

var envelopeSeeds = []string{
	`{"id":"0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"thing.made","aggregate_id":"a","source":"pub","payload":{"n":1},"occurred_at":"2026-01-02T03:04:05Z"}`,
	`{"id":"x","type":"thing.made","source":"pub","payload":{}}`,
	`{"id":"0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"","source":"p\u0000b","payload":null}`,
	`{"id":"0b9a3b8e-8d7c-4d0e-9b1a-2f6f1c9d2a11","type":"t","source":"s","payload":1,"occurred_at":"yesterday"}`,
	`{"payload":"` + strings.Repeat("a", 64) + `"}`,
	"", "null", "{}", "[]", "{", `{} {}`, "\xff\xfe", `{"id":1}`,
}

// The body of POST /internal/<module>/events, through the real handler: a
// valid envelope reaches delivery (here: no such subscriber, a 404), and
// anything else is a client error with its code, never a 500.
func FuzzInternalEventsEndpoint(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add("application/json", s)
		f.Add("text/plain", s)
	}
	e := httpserver.New(config.Config{}, quiet)
	events.Mount(e, events.NewBus())
	f.Fuzz(func(t *testing.T, contentType, body string) {
		rec, d := postProblem(t, e, "/internal/sub/events", contentType, body)
		switch d.Code {
		case events.ErrUnknownSubscriber.Code:
			// Decoded and valid: it must be what DecodeEvent accepts too.
			if _, err := events.DecodeEvent([]byte(body)); err != nil && strings.HasPrefix(contentType, "application/json") {
				t.Fatalf("the endpoint took %q, DecodeEvent refuses it: %v", body, err)
			}
		case problem.ErrBadRequest.Code, problem.ErrValidation.Code, problem.ErrUnsupportedMedia.Code, problem.ErrTooLarge.Code:
		default:
			t.Fatalf("content type %q, body %q: %d %s is not a client error", contentType, body, rec.Code, d.Code)
		}
	})
}

// The body of POST /internal/<module>/events/batch, through the real
// handler: a request of the batch's shape reaches delivery (no such
// subscriber, a 404), and anything else is a client error with its code,
// never a 500.
func FuzzBatchEventsEndpoint(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add("application/json", `{"events":[`+s+`]}`)
		f.Add("application/json", `{"events":[`+s+`,`+s+`]}`)
		f.Add("application/json", s)
	}
	e := httpserver.New(config.Config{}, quiet)
	events.Mount(e, events.NewBus())
	f.Fuzz(func(t *testing.T, contentType, body string) {
		rec, d := postProblem(t, e, "/internal/sub/events/batch", contentType, body)
		switch d.Code {
		case events.ErrUnknownSubscriber.Code, problem.ErrBadRequest.Code, problem.ErrValidation.Code,
			problem.ErrUnsupportedMedia.Code, problem.ErrTooLarge.Code:
		default:
			t.Fatalf("content type %q, body %q: %d %s is not a client error", contentType, body, rec.Code, d.Code)
		}
	})
}

// A broker message is decoded without panicking; one that decodes is valid
// and survives a round trip, and one that does not is a coded client error
// (the consumer drops it rather than retrying it forever).
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := events.DecodeEvent(data)
		if err != nil {
			if c := problem.CodeOf(err); c != problem.ErrBadRequest && c != problem.ErrValidation {
				t.Fatalf("%q: %v (code %s) is not a client error", data, err, c.Code)
			}
			var ve *problem.ValidationError
			if c := problem.CodeOf(err); c == problem.ErrValidation && (!errors.As(err, &ve) || len(ve.Fields) == 0) {
				t.Fatalf("%q: validation error without fields: %v", data, err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("decoded %+v does not validate: %v", e, err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", e, err)
		}
		again, err := events.DecodeEvent(raw)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", raw, err)
		}
		if again.ID != e.ID || again.Type != e.Type || again.Source != e.Source || again.AggregateID != e.AggregateID || !again.OccurredAt.Equal(e.OccurredAt) {
			t.Fatalf("round trip changed %+v into %+v", e, again)
		}
	})
}

// postProblem posts body to path through e and decodes the answer, which
// must be problem+json: the fuzz targets' bodies never all succeed.
func postProblem(t *testing.T, e http.Handler, path, contentType, body string) (*httptest.ResponseRecorder, problem.Details) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var d problem.Details
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("%d answer is no problem+json: %q", rec.Code, rec.Body.String())
	}
	return rec, d
}
