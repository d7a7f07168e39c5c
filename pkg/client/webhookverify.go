package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request (Standard Webhooks, and the event's
// sequence).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
	HeaderWebhookSequence  = "webhook-sequence"
)

// Errors of WebhookVerifier.Verify, for errors.Is.
var (
	// ErrMissingHeaders: webhook-id, webhook-timestamp or
	// webhook-signature is absent.
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	// ErrInvalidTimestamp: webhook-timestamp is not Unix seconds.
	ErrInvalidTimestamp = errors.New("webhook: malformed webhook-timestamp")
	// ErrTimestampOutOfTolerance: the request was signed too long ago (a
	// replay) or too far in the future.
	ErrTimestampOutOfTolerance = errors.New("webhook: webhook-timestamp outside the tolerance")
	// ErrNoMatchingSignature: no signature matches any of the secrets.
	ErrNoMatchingSignature = errors.New("webhook: no signature matches")
)

// DefaultWebhookTolerance is how far webhook-timestamp may be from now:
// five minutes, as the Standard Webhooks libraries use.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookVerifier checks the Standard Webhooks signature of requests
// wagate sends to a receiver: webhook-signature holds
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per secret in force,
// space-separated during a rotation. A request is authentic when any of
// its signatures matches any of the verifier's secrets, so a receiver can
// hold both the old and the new secret while it switches.
type WebhookVerifier struct {
	keys [][]byte
	// Tolerance bounds the distance between webhook-timestamp and now
	// (default DefaultWebhookTolerance; negative: not checked).
	Tolerance time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewWebhookVerifier returns a verifier of the given secrets (whsec_…, as
// the API shows them; the bare base64 key is accepted too).
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no secret")
	}
	v := &WebhookVerifier{Tolerance: DefaultWebhookTolerance, Now: time.Now}
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("webhook: secret %d is not whsec_<base64>", i+1)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify checks the signature of a request with header h and body.
func (v *WebhookVerifier) Verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if v.Tolerance >= 0 {
		tol := v.Tolerance
		if tol == 0 {
			tol = DefaultWebhookTolerance
		}
		now := time.Now
		if v.Now != nil {
			now = v.Now
		}
		if d := now().Sub(time.Unix(sec, 0)); d > tol || d < -tol {
			return ErrTimestampOutOfTolerance
		}
	}
	for _, key := range v.keys {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "."))
		m.Write(body)
		want := m.Sum(nil)
		for sig := range strings.FieldsSeq(sigs) {
			b64, ok := strings.CutPrefix(sig, "v1,")
			if !ok {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// WebhookEvent is a verified webhook request: the event (with its Seq) as
// the body carried it.
type WebhookEvent struct {
	Event
	// Raw is the body as received.
	Raw []byte
}

// Parse verifies a request and decodes its body.
func (v *WebhookVerifier) Parse(h http.Header, body []byte) (*WebhookEvent, error) {
	if err := v.Verify(h, body); err != nil {
		return nil, err
	}
	ev := &WebhookEvent{Raw: body}
	if err := json.Unmarshal(body, &ev.Event); err != nil {
		return nil, fmt.Errorf("webhook: decode body: %w", err)
	}
	return ev, nil
}

// maxWebhookBody bounds what Handler reads of a request.
const maxWebhookBody = 16 << 20

// Handler returns an http.Handler for a receiver: it verifies each
// request, answers 401 to one that fails verification (wagate retries it,
// so a secret added late loses nothing), and otherwise calls fn with the
// event: a nil error answers 204 (delivered), an error 500 (wagate
// retries the delivery later). Events arrive at least once: de-duplicate
// by ID.
func (v *WebhookVerifier) Handler(fn func(*http.Request, *WebhookEvent) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		ev, err := v.Parse(r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := fn(r, ev); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
