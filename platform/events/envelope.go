package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"mitosis/platform/problem"
)

// Validate checks what a receiving process stores of an envelope before it
// reaches the inbox: a UUID id, a type, a source and a payload, and no
// NUL byte in a text. An event
// made by New always passes; anything else is a client's error
// (ErrValidation, naming the fields), never a failed insert and a 500.
func (e Event) Validate() error {
	var bad problem.Fields
	if uuid.Validate(e.ID) != nil {
		bad.Add("id", "must be a UUID")
	}
	for _, f := range []struct{ name, value string }{{"type", e.Type}, {"source", e.Source}, {"aggregate_id", e.AggregateID}} {
		switch {
		case f.value == "" && f.name != "aggregate_id":
			bad.Add(f.name, "is required")
		case strings.ContainsRune(f.value, 0):
			bad.Add(f.name, "must not contain NUL") // PostgreSQL text cannot hold it
		}
	}
	if p := bytes.TrimSpace(e.Payload); len(p) == 0 || bytes.Equal(p, []byte("null")) {
		bad.Add("payload", "is required")
	}
	return bad.Err()
}

// DecodeEvent reads one envelope as a broker message carries it: JSON of
// an Event, which must then pass Validate.
func DecodeEvent(data []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return Event{}, fmt.Errorf("%w: %v", problem.ErrBadRequest, err)
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e.withCleanTrace(), nil
}
