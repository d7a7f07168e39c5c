package webhook

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

func TestSignVerifiesWithReferenceLibrary(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	key, err := base64.StdEncoding.DecodeString(secret[len(SecretPrefix):])
	require.NoError(t, err)
	require.Len(t, key, 24)

	body := []byte(`{"id":"evt_1","type":"message.received"}`)
	now := time.Now()
	other := NewSecret()
	sig, err := Sign([]string{secret, other}, "evt_1", now, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set(HeaderID, "evt_1")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, sig)
	for _, s := range []string{secret, other} {
		wh, err := standardwebhooks.NewWebhook(s)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, h))
		// The reference signer agrees byte for byte.
		ref, err := wh.Sign("evt_1", now, body)
		require.NoError(t, err)
		require.Contains(t, sig, ref)
	}
	wh, _ := standardwebhooks.NewWebhook(NewSecret())
	require.Error(t, wh.Verify(body, h), "another secret does not verify")
	tampered := append([]byte(nil), body...)
	tampered[2] = 'X'
	wh, _ = standardwebhooks.NewWebhook(secret)
	require.Error(t, wh.Verify(tampered, h))

	_, err = Sign([]string{"nope"}, "evt_1", now, body)
	require.ErrorIs(t, err, errBadSecret)
}

func TestMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filters []string
		typ     string
		want    bool
	}{
		{[]string{"*"}, "message.received", true},
		{[]string{"message.*"}, "message.received", true},
		{[]string{"message.*"}, "messages.x", false},
		{[]string{"message.*"}, "connection.qr", false},
		{[]string{"connection.qr"}, "connection.qr", true},
		{[]string{"connection.qr"}, "connection.qr_x", false},
		{[]string{"group.*", "call.received"}, "call.received", true},
		{nil, "message.received", false},
		{[]string{"*"}, "chat.updated", true},
		{[]string{"*"}, "history.message", false},
		{[]string{"*"}, "history.sync_progress", false},
		{[]string{"history.*"}, "history.message", true},
		{[]string{"*", "history.sync_progress"}, "history.sync_progress", true},
		{[]string{"history.sync_progress"}, "history.message", false},
	} {
		require.Equal(t, tc.want, matches(tc.filters, tc.typ), "%v %s", tc.filters, tc.typ)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	mk := func(v string) *http.Response { return &http.Response{Header: http.Header{"Retry-After": {v}}} }
	d, ok := retryAfter(mk("30"))
	require.True(t, ok)
	require.Equal(t, 30*time.Second, d)
	d, ok = retryAfter(mk(time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)))
	require.True(t, ok)
	require.InDelta(t, 90, d.Seconds(), 2)
	_, ok = retryAfter(mk("soon"))
	require.False(t, ok)
	_, ok = retryAfter(nil)
	require.False(t, ok)

	s := &sender{maxRetryAfter: time.Minute}
	retry, _ := s.checkRetry(t.Context(), &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"5"}}}, nil)
	require.True(t, retry)
	require.Equal(t, 5*time.Second, s.backoff(time.Millisecond, time.Second, 0, &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"5"}}}))
	retry, _ = s.checkRetry(t.Context(), &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"3600"}}}, nil)
	require.False(t, retry, "a longer Retry-After goes to the long schedule")
	retry, _ = s.checkRetry(t.Context(), &http.Response{StatusCode: 500}, nil)
	require.False(t, retry, "500 goes to the long schedule")
	retry, _ = s.checkRetry(t.Context(), &http.Response{StatusCode: 302}, nil)
	require.False(t, retry)
}

func TestReadSnippetBoundsAndCleans(t *testing.T) {
	t.Parallel()
	long := make([]byte, 3000)
	for i := range long {
		long[i] = 'a'
	}
	long[1023] = 0xe2 // a rune cut by the limit
	require.LessOrEqual(t, len(readSnippet(bytes.NewReader(long))), snippetLimit)
	require.Equal(t, "ab", readSnippet(bytes.NewReader([]byte("a\x00b"))))
}
