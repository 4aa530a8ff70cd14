package transport

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"mitosis/platform/problem"
)

// encoders encode answers into pooled buffers: json.Marshal would copy
// each answer into a new slice, and json.NewEncoder allocate an encoder.
var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// contentTypes are the header values of the usual answers, shared (see
// jsonValue).
var contentTypes = map[string][]string{
	"application/json":  jsonValue,
	problem.ContentType: {problem.ContentType},
}

// WriteJSON answers status with v as JSON (what json.Marshal makes) of the
// media type contentType. v is encoded before anything is written: a value
// JSON cannot carry (a NaN, a channel) is an error the caller can still
// answer with, not a status with an empty body.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) error {
	return writeJSON(w, status, contentType, v, false)
}

// WriteJSONLine is WriteJSON with a newline after the value, as
// json.Encoder writes it.
func WriteJSONLine(w http.ResponseWriter, status int, contentType string, v any) error {
	return writeJSON(w, status, contentType, v, true)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any, newline bool) error {
	e := encoders.Get().(*encoder)
	defer e.release()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	ct, ok := contentTypes[contentType]
	if !ok {
		ct = []string{contentType}
	}
	w.Header()["Content-Type"] = ct
	w.WriteHeader(status)
	raw := e.buf.Bytes()
	if !newline {
		raw = raw[:len(raw)-1] // Encode ends every value with one
	}
	_, err := w.Write(raw)
	return err
}

func (e *encoder) release() {
	if e.buf.Cap() <= maxPooled {
		e.buf.Reset()
		encoders.Put(e)
	}
}
