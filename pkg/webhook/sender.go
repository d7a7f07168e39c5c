package webhook

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/wagate/wagate/pkg/ssrf"
)

// snippetLimit bounds the response body kept in the attempt log.
const snippetLimit = 1024

// drainLimit is how much more of a response is read so the connection can
// be reused; a larger body closes it.
const drainLimit = 64 << 10

// userAgent identifies wagate to receivers.
const userAgent = "wagate-webhooks/1"

// result is the outcome of one attempt (one long-schedule step, which may
// contain short retries).
type result struct {
	outcome    string // outcomeDelivered, outcomeFailed or outcomeGone
	statusCode int    // 0 when no response arrived
	latency    time.Duration
	err        string
	snippet    string
	// retryAfter is the receiver's Retry-After (0 when none).
	retryAfter time.Duration
	// aborted is true when the dispatcher gave up for its own reason
	// (shutdown): the attempt says nothing about the endpoint.
	aborted bool
}

// sender makes the HTTP requests of deliveries: signed, with short retries
// for transport blips, never following redirects, dialling only addresses
// the SSRF guard allows.
type sender struct {
	client        *retryablehttp.Client
	maxRetryAfter time.Duration
}

func newSender(cfg *Config) *sender {
	guard := ssrf.Guard{AllowPrivate: cfg.AllowPrivate}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would make the dial-time
		// guard check the proxy's address instead of the receiver's.
		Proxy:                 nil,
		DialContext:           guard.Dialer(cfg.HTTPTimeout).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   min(MaxInFlightLimit, cfg.Concurrency),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.HTTPTimeout,
		ResponseHeaderTimeout: cfg.HTTPTimeout,
		ExpectContinueTimeout: time.Second,
	}
	s := &sender{maxRetryAfter: cfg.MaxRetryAfter}
	s.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: tr,
			Timeout:   cfg.HTTPTimeout,
			// A redirect is a failure: following it would let a receiver
			// send the signed payload elsewhere, past the registration check.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: cfg.ShortRetryWait,
		RetryWaitMax: 8 * cfg.ShortRetryWait,
		RetryMax:     cfg.ShortRetries,
		CheckRetry:   s.checkRetry,
		Backoff:      s.backoff,
		// Hand back the last response instead of an opaque error, so its
		// status and body reach the attempt log.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return s
}

// checkRetry allows a short retry after a transport error (not a refused
// address, not a TLS verification failure) and after 429, 502, 503 and
// 504, unless the receiver asks to wait longer than maxRetryAfter.
func (s *sender) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if errors.Is(err, ssrf.ErrRefused) {
			return false, err
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp); ok && d > s.maxRetryAfter {
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// backoff waits the receiver's Retry-After when it gave one (checkRetry
// bounded it), else doubles from min with jitter.
func (s *sender) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp); ok {
		return min(d, s.maxRetryAfter)
	}
	d := lo << min(attempt, 16)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads Retry-After (seconds or an HTTP date).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(min(n, 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// send makes one attempt of j to ep. ctx ends only when the dispatcher
// abandons the attempt (shutdown).
func (s *sender) send(ctx context.Context, ep *Endpoint, j *job) *result {
	start := time.Now()
	r := &result{outcome: outcomeFailed}
	defer func() { r.latency = time.Since(start) }()

	sig, err := Sign(ep.secrets(start), j.eventID, start, j.payload)
	if err != nil {
		r.err = err.Error()
		return r
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, ep.URL, j.payload)
	if err != nil {
		r.err = "cannot build the request: " + plainError(err)
		return r
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderID, j.eventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(start.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderSequence, strconv.FormatUint(j.seq, 10))

	resp, err := s.client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			r.aborted = true
		}
		r.err = plainError(err)
		return r
	}
	defer resp.Body.Close()
	r.statusCode = resp.StatusCode
	r.snippet = readSnippet(resp.Body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		r.outcome = outcomeDelivered
	case resp.StatusCode == http.StatusGone:
		r.outcome = outcomeGone
		r.err = "receiver answered 410 Gone"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		r.err = "receiver answered " + resp.Status + "; redirects are not followed, register the final URL"
	default:
		r.err = "receiver answered " + resp.Status
		if d, ok := retryAfter(resp); ok {
			r.retryAfter = d
		}
	}
	return r
}

// plainError drops the URL that *url.Error repeats: it may carry a token
// in its query, and the attempt log already belongs to the endpoint.
func plainError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return strings.ToValidUTF8(msg, "?")
}

// readSnippet reads up to snippetLimit bytes as valid UTF-8 without NULs
// (Postgres text refuses them).
func readSnippet(body io.Reader) string {
	buf, _ := io.ReadAll(io.LimitReader(body, snippetLimit))
	s := strings.ReplaceAll(strings.ToValidUTF8(string(buf), "\uFFFD"), "\x00", "")
	for len(s) > snippetLimit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
