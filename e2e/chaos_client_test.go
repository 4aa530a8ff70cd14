package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// chaosClient is the chaos suite's HTTP client: a good client, which retries
// a request that got no answer or a 5xx, with the same idempotency key and
// backoff, and records every exchange so faults can be told apart by time.
type chaosClient struct {
	http *http.Client
	log  *exchangeLog
}

// exchange is one HTTP attempt: when its answer (or failure) came, and the
// status, 0 when no answer came (refused, reset, timed out); unsent is a
// connection that could not be made (the request was never sent),
// retryAfter an answer with Retry-After.
type exchange struct {
	at         time.Time
	status     int
	unsent     bool
	retryAfter bool
	what       string // method and path, for the report
}

// definite says whether the client knows what became of the request: an
// answer that is no server error, a 503 with Retry-After (not served: try
// again), or a connection that could not be made (never sent). A reset or
// a timeout under a request, a 500 or a 502 leave it unknown.
func (e exchange) definite() bool {
	switch {
	case e.status == 0:
		return e.unsent
	case e.status == http.StatusServiceUnavailable:
		return e.retryAfter
	}
	return e.status < 500
}

// exchangeLog collects the exchanges of every worker.
type exchangeLog struct {
	mu   sync.Mutex
	list []exchange
}

func (l *exchangeLog) add(e exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
}

// count returns the exchanges, those that got a 5xx and those that got no
// answer, between from and to (all of them when both are zero).
func (l *exchangeLog) count(from, to time.Time) (total, fivexx, none int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.list {
		if !from.IsZero() && (e.at.Before(from) || e.at.After(to)) {
			continue
		}
		total++
		switch {
		case e.status == 0:
			none++
		case e.status >= 500:
			fivexx++
		}
	}
	return total, fivexx, none
}

// indefinite lists the exchanges between from and to without a definite
// answer.
func (l *exchangeLog) indefinite(from, to time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.list {
		if !e.at.Before(from) && !e.at.After(to) && !e.definite() {
			out = append(out, fmt.Sprintf("%s at %s: status %d", e.what, e.at.Format("15:04:05.000"), e.status))
		}
	}
	return out
}

// byStatus counts the exchanges answered with each 5xx status.
func (l *exchangeLog) byStatus() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, e := range l.list {
		if e.status >= 500 {
			out[e.status]++
		}
	}
	return out
}

// answer is the outcome of one attempt.
type answer struct {
	status   int // 0: no answer
	body     []byte
	attempts int // sent this many times (by do)
}

// retryable says whether a good client repeats the request: no answer, or
// a server error. A 4xx is an answer about the request itself.
func (a answer) retryable() bool { return a.status == 0 || a.status >= 500 }

// decode unmarshals the body into out, reporting whether it could.
func (a answer) decode(out any) bool { return json.Unmarshal(a.body, out) == nil }

// code is the problem code of the body, "" if it has none.
func (a answer) code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(a.body, &p)
	return p.Code
}

// once sends one request; key, when set, is the Idempotency-Key.
func (c *chaosClient) once(method, url, token, key string, body any) answer {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			panic(err) // the suite's own request types always encode
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), chaosRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		panic(err) // the suite builds only valid URLs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	what := method + " " + req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.add(exchange{at: time.Now(), status: 0, unsent: neverSent(err), what: what + ": " + err.Error()})
		return answer{}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.log.add(exchange{at: time.Now(), status: 0, what: what + ": " + err.Error()})
		return answer{}
	}
	c.log.add(exchange{at: time.Now(), status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After") != "", what: what})
	return answer{status: resp.StatusCode, body: raw}
}

// do sends the request until it gets an answer that is not a server error,
// with exponential backoff, for at most patience. The last answer is
// returned either way.
func (c *chaosClient) do(patience time.Duration, method, url, token, key string, body any) answer {
	deadline := time.Now().Add(patience)
	pause := 50 * time.Millisecond
	for n := 1; ; n++ {
		a := c.once(method, url, token, key, body)
		a.attempts = n
		if !a.retryable() || time.Now().Add(pause).After(deadline) {
			return a
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}

// neverSent reports whether err ended the attempt while connecting, before
// any byte of the request was written: refused, or reset because the
// server's listener closed with the connection still in its queue (which
// a draining server does once its SHUTDOWN_DELAY is over).
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
