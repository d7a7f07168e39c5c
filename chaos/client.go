package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// apiClient calls the fleet's API with the admin token.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: 5 * time.Second}}
}

// do sends a request; a non-2xx answer is an *apiError.
func (a *apiClient) do(ctx context.Context, method, path string, body any, out any, hdr ...string) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return res.StatusCode, &apiError{status: res.StatusCode, body: string(raw), retryAfter: res.Header.Get("Retry-After")}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

type apiError struct {
	status     int
	body       string
	retryAfter string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// pairChannels creates n simulator channels and pairs each as a user
// would: start, wait for the QR code, scan, wait until active.
func (a *apiClient) pairChannels(ctx context.Context, n int) ([]string, error) {
	var ids []string
	for i := range n {
		var ch struct {
			ID string `json:"id"`
		}
		if _, err := a.do(ctx, "POST", "/v1/channels", map[string]any{"name": fmt.Sprintf("chaos-%d", i), "driver": "sim"}, &ch); err != nil {
			return nil, fmt.Errorf("create channel: %w", err)
		}
		ids = append(ids, ch.ID)
	}
	for i, id := range ids {
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if err = a.pair(ctx, id, fmt.Sprintf("1555700%04d", i)); err == nil {
				break
			}
			progress("pairing %s failed (%v); again", id, err)
		}
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// pair starts a channel, waits for its QR code, scans it and waits until
// the channel is active.
func (a *apiClient) pair(ctx context.Context, id, phone string) error {
	if _, err := a.do(ctx, "POST", "/v1/channels/"+id+"/start", nil, nil); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	if err := a.waitState(ctx, id, "qr_pending", 30*time.Second); err != nil {
		return err
	}
	if _, err := a.do(ctx, "POST", "/v1/sim/channels/"+id+"/scan", map[string]any{"phone": phone}, nil); err != nil {
		return fmt.Errorf("scan %s: %w", id, err)
	}
	return a.waitState(ctx, id, "active", 15*time.Second)
}

func (a *apiClient) state(ctx context.Context, id string) (string, error) {
	var ch struct {
		State string `json:"state"`
	}
	_, err := a.do(ctx, "GET", "/v1/channels/"+id, nil, &ch)
	return ch.State, err
}

func (a *apiClient) waitState(ctx context.Context, id, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := a.state(ctx, id)
		if err == nil && st == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("channel %s did not reach %s in %s (state %q, %v)", id, want, timeout, st, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// message is a message as GET messages shows it.
type message struct {
	ID             string     `json:"id"`
	IdempotencyKey string     `json:"idempotency_key"`
	Status         string     `json:"status"`
	Reason         string     `json:"reason"`
	SentAt         *time.Time `json:"sent_at"`
}

// messagesSince lists a channel's messages created at or after since.
func (a *apiClient) messagesSince(ctx context.Context, channel string, since time.Time) ([]message, error) {
	var out []message
	before := ""
	for {
		q := url.Values{"limit": {"500"}, "since": {since.UTC().Format(time.RFC3339)}}
		if before != "" {
			q.Set("before", before)
		}
		var page struct {
			Data       []message `json:"data"`
			NextBefore *string   `json:"next_before"`
		}
		if _, err := a.do(ctx, "GET", "/v1/channels/"+channel+"/messages?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Data...)
		if page.NextBefore == nil {
			return out, nil
		}
		before = *page.NextBefore
	}
}

// send is one key of the traffic, as the client saw it.
type send struct {
	key, channel string
	issued       time.Time // first attempt
	accepted     time.Time // first 2xx
	id           string    // message id of the first 2xx
	otherIDs     []string  // other ids answered for the same key (a duplicate)
	attempts     int
	rejected     string // a 4xx that is not retried
	lastErr      string
}

// traffic sends at a steady rate, each key retried with the same
// Idempotency-Key on 5xx, 429 and transport errors until accepted or
// until its give-up context ends.
type traffic struct {
	a        *apiClient
	channels []string
	prefix   string

	mu    sync.Mutex
	sends []*send
	wg    sync.WaitGroup
}

// run issues keys at rate until issue ends; retries go on until giveUp ends.
func (t *traffic) run(issue, giveUp context.Context, rate float64) {
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for i := 0; ; i++ {
		if d := time.Until(next); d > 0 {
			sleepCtx(issue, d)
		}
		if issue.Err() != nil {
			return
		}
		next = next.Add(interval)
		s := &send{key: t.prefix + "-" + strconv.Itoa(i), channel: t.channels[i%len(t.channels)], issued: time.Now()}
		t.mu.Lock()
		t.sends = append(t.sends, s)
		t.mu.Unlock()
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.deliver(giveUp, s, i)
		}()
	}
}

func (t *traffic) deliver(ctx context.Context, s *send, i int) {
	body := map[string]any{"to": fmt.Sprintf("1555010%04d", 1000+i%9000), "type": "text", "text": "chaos " + s.key}
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		var acc struct {
			ID string `json:"id"`
		}
		_, err := t.a.do(ctx, "POST", "/v1/channels/"+s.channel+"/messages", body, &acc, "Idempotency-Key", s.key)
		t.mu.Lock()
		s.attempts++
		if err == nil {
			if s.id == "" {
				s.id, s.accepted = acc.ID, time.Now()
			} else if acc.ID != s.id {
				s.otherIDs = append(s.otherIDs, acc.ID)
			}
			t.mu.Unlock()
			return
		}
		s.lastErr = err.Error()
		wait := backoff
		if ae, ok := err.(*apiError); ok {
			if ae.status < 500 && ae.status != http.StatusTooManyRequests && ae.status != http.StatusRequestTimeout {
				s.rejected = ae.Error()
				t.mu.Unlock()
				return
			}
			if ra, err := strconv.Atoi(ae.retryAfter); err == nil && ra > 0 {
				wait = min(time.Duration(ra)*time.Second, 2*time.Second)
			}
		}
		t.mu.Unlock()
		sleepCtx(ctx, wait)
		backoff = min(backoff*2, 2*time.Second)
	}
}

// snapshot returns copies of the sends, after waiting for every retry.
func (t *traffic) finish() []send {
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]send, len(t.sends))
	for i, s := range t.sends {
		out[i] = *s
	}
	return out
}

// counts returns issued and accepted so far.
func (t *traffic) counts() (issued, accepted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.sends {
		if s.id != "" {
			accepted++
		}
	}
	return len(t.sends), accepted
}
