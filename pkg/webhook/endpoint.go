package webhook

import (
	"cmp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Endpoint is a registered webhook receiver. ChannelID is empty for an
// admin-level endpoint, which receives the events of every channel.
type Endpoint struct {
	ID             string
	ChannelID      string
	URL            string
	Description    string
	Events         []string
	Headers        map[string]string
	Enabled        bool
	DisabledReason string
	DisabledAt     *time.Time
	// MaxInFlight bounds the attempts in flight to the endpoint in one
	// dispatcher (1 to MaxInFlightLimit); 0 leaves it to the dispatcher's
	// Config.EndpointConcurrency.
	MaxInFlight int
	// Secret signs every request; PreviousSecret also signs until
	// PreviousSecretUntil (rotation grace period).
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	// FailingSince, ConsecutiveFailures and BackoffUntil are the failure
	// streak shared by all dispatchers (see doc.go).
	FailingSince        *time.Time
	ConsecutiveFailures int
	BackoffUntil        *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// secrets returns the secrets that sign a request made at now.
func (e *Endpoint) secrets(now time.Time) []string {
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && now.Before(*e.PreviousSecretUntil) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// endpointJSON is how the API shows an endpoint. The secret appears only in
// the answers to creation and rotation.
type endpointJSON struct {
	ID                      string            `json:"id"`
	ChannelID               *string           `json:"channel_id"`
	URL                     string            `json:"url"`
	Description             string            `json:"description"`
	Events                  []string          `json:"events"`
	Headers                 map[string]string `json:"headers"`
	Enabled                 bool              `json:"enabled"`
	MaxInFlight             int               `json:"max_in_flight"`
	DisabledReason          string            `json:"disabled_reason,omitempty"`
	DisabledAt              *time.Time        `json:"disabled_at,omitempty"`
	FailingSince            *time.Time        `json:"failing_since,omitempty"`
	BackoffUntil            *time.Time        `json:"backoff_until,omitempty"`
	PreviousSecretExpiresAt *time.Time        `json:"previous_secret_expires_at,omitempty"`
	Secret                  string            `json:"secret,omitempty"`
	CreatedAt               time.Time         `json:"created_at"`
	UpdatedAt               time.Time         `json:"updated_at"`
}

// view shows e; defaultMaxInFlight is the bound shown when e has none of
// its own.
func (e *Endpoint) view(withSecret bool, defaultMaxInFlight int) endpointJSON {
	v := endpointJSON{
		ID: e.ID, URL: e.URL, Description: e.Description, Events: e.Events, Headers: e.Headers,
		Enabled: e.Enabled, MaxInFlight: cmp.Or(e.MaxInFlight, defaultMaxInFlight), DisabledReason: e.DisabledReason,
		DisabledAt: e.DisabledAt, FailingSince: e.FailingSince, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
	if e.ChannelID != "" {
		ch := e.ChannelID
		v.ChannelID = &ch
	}
	if v.Headers == nil {
		v.Headers = map[string]string{}
	}
	now := time.Now()
	if e.BackoffUntil != nil && e.BackoffUntil.After(now) {
		v.BackoffUntil = e.BackoffUntil
	}
	if e.PreviousSecret != "" && e.PreviousSecretUntil != nil && e.PreviousSecretUntil.After(now) {
		v.PreviousSecretExpiresAt = e.PreviousSecretUntil
	}
	if withSecret {
		v.Secret = e.Secret
	}
	return v
}

// Limits of endpoint fields.
const (
	maxURLLen         = 2048
	maxDescriptionLen = 500
	maxHeaders        = 20
	maxHeaderValueLen = 1024
	// MaxInFlightLimit is the largest max_in_flight of an endpoint: enough
	// for a receiver answering in 20 ms to take 3,000 deliveries/s from
	// one dispatcher, while leaving most of Config.Concurrency to others.
	MaxInFlightLimit = 64
)

// checkURL validates the form of a receiver URL; the SSRF check of its host
// is separate. The string explains what is wrong.
func checkURL(raw string) (*url.URL, string) {
	if raw == "" {
		return nil, "is required"
	}
	if len(raw) > maxURLLen {
		return nil, "must be at most 2048 bytes"
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, "must not contain spaces or control characters"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "is not a valid URL"
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, "must be an http:// or https:// URL"
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, "must name a host, as in https://example.com/hooks/wagate"
	case u.User != nil:
		return nil, "must not contain credentials (user:password@); send them in a custom header instead"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, "must not contain a fragment (#…)"
	}
	if p := u.Port(); p != "" {
		if n := atoiOK(p); n < 1 || n > 65535 {
			return nil, "has an invalid port"
		}
	}
	return u, ""
}

func atoiOK(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' || n > 65535 {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// reservedHeaders may not be set by an endpoint's custom headers: they are
// hop-by-hop, describe the body, or are set by the dispatcher.
var reservedHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true, "Content-Type": true, "Content-Encoding": true,
	"Expect": true, "User-Agent": true,
}

// normalizeHeaders checks custom headers and returns them in canonical
// form. The second result names the offending header and the third
// explains what is wrong.
func normalizeHeaders(h map[string]string) (map[string]string, string, string) {
	if len(h) > maxHeaders {
		return nil, "", "at most 20 custom headers"
	}
	out := make(map[string]string, len(h))
	for name, value := range h {
		if !validHeaderName(name) {
			return nil, name, "is not a valid header name"
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeaders[canon] {
			return nil, name, "is set by the dispatcher or hop-by-hop and cannot be overridden"
		}
		if strings.HasPrefix(strings.ToLower(name), "webhook-") {
			return nil, name, "webhook-* headers carry the Standard Webhooks signature and cannot be overridden"
		}
		if len(value) > maxHeaderValueLen {
			return nil, name, "value must be at most 1024 bytes"
		}
		if strings.ContainsFunc(value, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }) {
			return nil, name, "value must not contain control characters"
		}
		if _, dup := out[canon]; dup {
			return nil, name, "is given twice"
		}
		out[canon] = value
	}
	return out, "", ""
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
