package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"mitosis/platform/telemetry"
)

// JWKSPath is where users publishes its public keys.
const JWKSPath = "/.well-known/jwks.json"

// JWKSMinRefresh is how often, at most, a RemoteKeys refetches the JWKS
// because a token names a kid it does not know.
const JWKSMinRefresh = 5 * time.Second

// PublishLead is how long a new signing key is published before it signs.
// It is longer than JWKSMinRefresh, so a verifier that meets the new kid
// has either fetched it already or may refetch at once: a rotation never
// refuses a good token.
const PublishLead = 2 * JWKSMinRefresh

// JWK is one Ed25519 public key (RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is a key set document.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes pub as a JWK with its kid.
func PublicJWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Alg: "EdDSA", Use: "sig"}
}

// keys decodes the Ed25519 signing keys of the set, skipping any other.
func (s JWKS) keys() map[string]ed25519.PublicKey {
	out := map[string]ed25519.PublicKey{}
	for _, k := range s.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Use != "" && k.Use != "sig") || k.Kid == "" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	return out
}

// RemoteKeys is the KeySource of processes without users: it fetches the
// JWKS, caches it for ttl, and refetches early when a token names a kid it
// does not know (a rotation), but at most once per minRefresh, so a flood
// of tokens with made-up kids cannot hammer users.
type RemoteKeys struct {
	url        string
	http       *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time
	tracer     trace.Tracer // nil: fetches are not traced

	fetch     sync.Mutex // one fetch at a time; others wait and reuse it
	mu        sync.RWMutex
	keys      map[string]ed25519.PublicKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt, successful or not
	failed    error     // why the last attempt failed; nil after a success
}

// NewRemoteKeys returns a key source reading the JWKS at url.
func NewRemoteKeys(url string, hc *http.Client, ttl, minRefresh time.Duration) *RemoteKeys {
	return &RemoteKeys{url: url, http: hc, ttl: ttl, minRefresh: minRefresh, now: time.Now}
}

// PublicKey returns the key with kid, fetching the set when the cache is
// stale or, rate-limited, when kid is unknown.
func (r *RemoteKeys) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	key, ok, fresh := r.cached(kid)
	switch {
	case ok && fresh:
		return key, nil
	case ok:
		// Known but stale: never queue behind a fetch in flight. If users
		// hangs, every request would otherwise wait for its timeout in turn.
		if !r.fetch.TryLock() {
			return key, nil
		}
	default:
		r.fetch.Lock()
	}
	defer r.fetch.Unlock()
	key, ok, fresh = r.cached(kid) // another caller may have fetched meanwhile
	if ok && fresh {
		return key, nil
	}
	r.mu.RLock()
	throttled := r.now().Sub(r.triedAt) < r.minRefresh
	failed := r.failed
	r.mu.RUnlock()
	if !throttled {
		failed = r.refresh(ctx)
		// On a failed refresh a stale key keeps working: users being briefly
		// away must not log everyone out.
		if failed == nil {
			key, ok, _ = r.cached(kid)
		}
	}
	switch {
	case ok:
		return key, nil
	case failed != nil:
		// The kid may well be valid (a cold process, a rotation): only a
		// set that was fetched can say a kid is unknown.
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, failed)
	}
	return nil, ErrUnknownKey
}

func (r *RemoteKeys) cached(kid string) (key ed25519.PublicKey, ok, fresh bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	key, ok = r.keys[kid]
	return key, ok, r.now().Sub(r.fetchedAt) < r.ttl
}

func (r *RemoteKeys) refresh(ctx context.Context) error {
	r.mu.Lock()
	r.triedAt = r.now()
	r.mu.Unlock()
	err := r.fetchSet(ctx)
	r.mu.Lock()
	r.failed = err
	r.mu.Unlock()
	return err
}

func (r *RemoteKeys) fetchSet(ctx context.Context) error {
	// The fetch serves every waiting verifier and its outcome throttles the
	// next one, so it must not end with the request that happened to start
	// it: a client hanging up on a made-up kid would otherwise fail the
	// fetch and lock everyone out of a rotation for minRefresh.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// For the same reason it is a trace of its own, linked to the request
	// that started it, never a part of that request's trace.
	ctx, span := r.startFetch(ctx)
	defer span.End()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	telemetry.Inject(ctx, req.Header)
	resp, err := r.http.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, "unreachable")
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode != http.StatusOK {
		span.SetStatus(codes.Error, resp.Status)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS: %s answered %d", r.url, resp.StatusCode)
	}
	var set JWKS
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("decode JWKS: %w", err)
	}
	r.mu.Lock()
	r.keys, r.fetchedAt = set.keys(), r.now()
	r.mu.Unlock()
	return nil
}

// Traced makes the key fetches spans of tracer, each the root of a trace
// linked to the request that caused it.
func (r *RemoteKeys) Traced(tracer trace.Tracer) *RemoteKeys {
	r.tracer = tracer
	return r
}

func (r *RemoteKeys) startFetch(ctx context.Context) (context.Context, trace.Span) {
	cause := trace.LinkFromContext(ctx)
	ctx = telemetry.WithHop(telemetry.Detached(ctx), telemetry.Hop{})
	if r.tracer == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.URLFull(r.url), semconv.HTTPRequestMethodGet)}
	if cause.SpanContext.IsValid() {
		opts = append(opts, trace.WithLinks(cause))
	}
	return r.tracer.Start(ctx, "fetch JWKS", opts...)
}

// NoKeys knows no key: a process that cannot reach users' keys refuses
// every access token (development only; production fails at start).
type NoKeys struct{}

// PublicKey implements KeySource.
func (NoKeys) PublicKey(context.Context, string) (ed25519.PublicKey, error) {
	return nil, ErrUnknownKey
}
