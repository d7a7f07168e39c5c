package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/webhook"
)

// signed returns the headers wagate's dispatcher sends for body, signed
// by secrets at ts (pkg/webhook's Sign, the code that signs deliveries).
func signed(t *testing.T, secrets []string, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := webhook.Sign(secrets, id, ts, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set(client.HeaderWebhookID, id)
	h.Set(client.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(client.HeaderWebhookSignature, sig)
	return h
}

func TestWebhookVerifierChecksWhatTheDispatcherSigns(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret, other := webhook.NewSecret(), webhook.NewSecret(), webhook.NewSecret()
	now := time.Unix(1_760_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"message.received","channel_id":"ch_1","created_at":"2026-12-04T18:00:00Z","epoch":1,"data":{},"seq":7}`)
	verifier := func(secrets ...string) *client.WebhookVerifier {
		v, err := client.NewWebhookVerifier(secrets...)
		require.NoError(t, err)
		v.Now = func() time.Time { return now }
		return v
	}
	tests := []struct {
		name    string
		signers []string
		holds   []string
		ts      time.Time
		body    []byte
		header  func(http.Header)
		want    error
	}{
		{name: "one secret", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now},
		{name: "rotation: receiver holds the old secret", signers: []string{newSecret, oldSecret}, holds: []string{oldSecret}, ts: now},
		{name: "rotation: receiver holds the new secret", signers: []string{newSecret, oldSecret}, holds: []string{newSecret}, ts: now},
		{name: "receiver holds both while switching", signers: []string{newSecret}, holds: []string{oldSecret, newSecret}, ts: now},
		{name: "another secret", signers: []string{other}, holds: []string{oldSecret}, ts: now, want: client.ErrNoMatchingSignature},
		{name: "tampered body", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now, body: []byte(`{"id":"evt_2"}`), want: client.ErrNoMatchingSignature},
		{name: "old timestamp (a replay)", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now.Add(-6 * time.Minute), want: client.ErrTimestampOutOfTolerance},
		{name: "future timestamp", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now.Add(6 * time.Minute), want: client.ErrTimestampOutOfTolerance},
		{name: "within tolerance", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now.Add(-4 * time.Minute)},
		{name: "timestamp changed after signing", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now,
			header: func(h http.Header) { h.Set(client.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix()+1, 10)) }, want: client.ErrNoMatchingSignature},
		{name: "id changed after signing", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now,
			header: func(h http.Header) { h.Set(client.HeaderWebhookID, "evt_other") }, want: client.ErrNoMatchingSignature},
		{name: "missing signature", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now,
			header: func(h http.Header) { h.Del(client.HeaderWebhookSignature) }, want: client.ErrMissingHeaders},
		{name: "malformed timestamp", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now,
			header: func(h http.Header) { h.Set(client.HeaderWebhookTimestamp, "yesterday") }, want: client.ErrInvalidTimestamp},
		{name: "unknown signature version", signers: []string{oldSecret}, holds: []string{oldSecret}, ts: now,
			header: func(h http.Header) {
				h.Set(client.HeaderWebhookSignature, strings.Replace(h.Get(client.HeaderWebhookSignature), "v1,", "v2,", 1))
			}, want: client.ErrNoMatchingSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := signed(t, tc.signers, "evt_1", tc.ts, body)
			if tc.header != nil {
				tc.header(h)
			}
			got := body
			if tc.body != nil {
				got = tc.body
			}
			err := verifier(tc.holds...).Verify(h, got)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.True(t, errors.Is(err, tc.want), "got %v, want %v", err, tc.want)
		})
	}

	_, err := client.NewWebhookVerifier("whsec_not base64!")
	require.Error(t, err)
	_, err = client.NewWebhookVerifier()
	require.Error(t, err)
}

func TestWebhookVerifierHandler(t *testing.T) {
	t.Parallel()
	secret := webhook.NewSecret()
	v, err := client.NewWebhookVerifier(secret)
	require.NoError(t, err)
	var got *client.WebhookEvent
	h := v.Handler(func(_ *http.Request, ev *client.WebhookEvent) error {
		got = ev
		if ev.Type == "message.failed" {
			return errors.New("not now")
		}
		return nil
	})
	post := func(body string, hdr http.Header) int {
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		for k, vs := range hdr {
			r.Header[k] = vs
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	body := `{"id":"evt_1","type":"message.received","channel_id":"ch_1","created_at":"2026-12-04T18:00:00Z","epoch":2,"data":{"text":"hi"},"seq":9}`
	require.Equal(t, http.StatusNoContent, post(body, signed(t, []string{secret}, "evt_1", time.Now(), []byte(body))))
	require.Equal(t, "evt_1", got.ID)
	require.Equal(t, uint64(9), got.Seq)
	require.Equal(t, int64(2), got.Epoch)
	require.JSONEq(t, `{"text":"hi"}`, string(got.Data))

	got = nil
	require.Equal(t, http.StatusUnauthorized, post(body, signed(t, []string{webhook.NewSecret()}, "evt_1", time.Now(), []byte(body))))
	require.Nil(t, got, "an unverified request never reaches the callback")

	failing := strings.Replace(body, "message.received", "message.failed", 1)
	require.Equal(t, http.StatusInternalServerError, post(failing, signed(t, []string{secret}, "evt_1", time.Now(), []byte(failing))))
}
