package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go/jetstream"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

const (
	shards     = 4
	adminToken = "admin-token-for-tests-0123456789"
)

// bundle is one test's world: a fresh database, an embedded NATS with the
// streams, the webhook API on a Gin engine, and helpers.
type bundle struct {
	st      *store.Store
	dsn     string
	bus     *bus.Bus
	natsURL string
	router  *gin.Engine
	// secrets seals the endpoints' secrets; secretKey is its key, which
	// child dispatchers get as WAGATE_SECRET_KEY.
	secrets   *secretbox.Box
	secretKey string
}

type setupOpts struct {
	// allowPrivate is the registration check of the API (receivers are
	// httptest servers on 127.0.0.1, so most tests allow private).
	allowPrivate bool
}

func setup(t testing.TB, o setupOpts) *bundle {
	t.Helper()
	st, dsn := testenv.Store(t, shards)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		for _, e := range c.Errors {
			t.Logf("%s %s: internal error: %v", c.Request.Method, c.Request.URL.Path, e.Err)
		}
	})
	secrets, key := testenv.SecretBox(t)
	h, err := webhook.NewHandlers(webhook.HandlersConfig{Store: st, Secrets: secrets, Bus: b, AllowPrivate: o.allowPrivate})
	require.NoError(t, err)
	h.Mount(r, httpapi.NewAuthenticator([]string{adminToken}, st).Middleware())
	return &bundle{st: st, dsn: dsn, bus: b, natsURL: url, router: r, secrets: secrets, secretKey: key}
}

// fastConfig is a dispatcher configuration with test-sized times.
func (b *bundle) fastConfig() webhook.Config {
	return webhook.Config{
		Store:          b.st,
		Secrets:        b.secrets,
		Bus:            b.bus,
		Logger:         testLogger(),
		Schedule:       []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond},
		AllowPrivate:   true,
		ClaimInterval:  20 * time.Millisecond,
		CacheTTL:       200 * time.Millisecond,
		Lease:          time.Second,
		AckWait:        time.Second,
		HTTPTimeout:    2 * time.Second,
		ShortRetryWait: 10 * time.Millisecond,
		ShutdownGrace:  2 * time.Second,
	}
}

// start runs a dispatcher until the test ends.
func (b *bundle) start(t testing.TB, cfg webhook.Config) {
	t.Helper()
	d, err := webhook.NewDispatcher(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("dispatcher did not stop within 15s")
		}
	})
}

// channel creates a channel and returns its id and token.
func (b *bundle) channel(t testing.TB) (string, string) {
	t.Helper()
	id := ids.New(ids.Channel)
	token := ids.Token("wgc_", 32)
	c := &store.Channel{ID: id, Name: "test", TokenHash: httpapi.HashToken(token), Shard: shard.Of(id, shards), Driver: "sim"}
	require.NoError(t, b.st.CreateChannel(context.Background(), c))
	return id, token
}

// do calls the API and decodes the JSON answer into out (when not nil).
func (b *bundle) do(t testing.TB, token, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	b.router.ServeHTTP(w, req)
	if out != nil && w.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), out), "body: %s", w.Body.String())
	}
	return w.Code
}

// endpointAnswer is the API's view of an endpoint.
type endpointAnswer struct {
	ID                      string            `json:"id"`
	ChannelID               *string           `json:"channel_id"`
	URL                     string            `json:"url"`
	Events                  []string          `json:"events"`
	Headers                 map[string]string `json:"headers"`
	Enabled                 bool              `json:"enabled"`
	DisabledReason          string            `json:"disabled_reason"`
	Secret                  string            `json:"secret"`
	PreviousSecretExpiresAt *time.Time        `json:"previous_secret_expires_at"`
}

type apiError struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// endpoint registers an endpoint through the API: on channel, or
// admin-level when channel is "".
func (b *bundle) endpoint(t testing.TB, channel string, body map[string]any) endpointAnswer {
	t.Helper()
	var out endpointAnswer
	code := b.do(t, adminToken, http.MethodPost, webhooksPath(channel), body, &out)
	require.Equal(t, http.StatusCreated, code, "create endpoint %v", body)
	require.True(t, strings.HasPrefix(out.Secret, webhook.SecretPrefix))
	return out
}

func webhooksPath(channel string) string {
	if channel == "" {
		return "/v1/webhooks"
	}
	return "/v1/channels/" + channel + "/webhooks"
}

// publish stores an event of typ for channel in WA_EVT.
func (b *bundle) publish(t testing.TB, channel, typ string) event.Envelope {
	t.Helper()
	ev, err := event.New(typ, channel, 1, time.Now(), map[string]any{"n": ids.New("")})
	require.NoError(t, err)
	_, err = b.bus.PublishEvent(context.Background(), ev)
	require.NoError(t, err)
	return ev
}

// events reads the events of typ on channel from WA_EVT.
func (b *bundle) events(t *testing.T, channel, typ string) []event.Envelope {
	t.Helper()
	ctx := context.Background()
	cons, err := b.bus.JS.OrderedConsumer(ctx, b.bus.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.bus.Names.Evt(channel, typ)},
	})
	require.NoError(t, err)
	var out []event.Envelope
	batch, err := cons.Fetch(100, jetstream.FetchMaxWait(200*time.Millisecond))
	require.NoError(t, err)
	for m := range batch.Messages() {
		var ev event.Envelope
		require.NoError(t, json.Unmarshal(m.Data(), &ev))
		out = append(out, ev)
	}
	return out
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	Status int
}

// receiver is an httptest server recording every request; respond picks
// the status of the n-th request (from 1). By default it answers 204.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(n int, r *http.Request) int
}

func newReceiver(t testing.TB, respond func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.reqs) + 1
		rc.reqs = append(rc.reqs, received{Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		status := http.StatusNoContent
		if rc.respond != nil {
			status = rc.respond(n, r)
		}
		rc.mu.Lock()
		rc.reqs[n-1].Status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// delivered returns, per event id, how many requests were answered 2xx.
func (rc *receiver) delivered() map[string]int {
	out := map[string]int{}
	for _, r := range rc.requests() {
		if r.Status >= 200 && r.Status < 300 {
			out[r.Header.Get(webhook.HeaderID)]++
		}
	}
	return out
}

// verify checks a request's signature with the Standard Webhooks reference
// library, and that the webhook-id and sequence match the payload.
func verify(t *testing.T, secret string, r received) webhook.Payload {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(r.Body, r.Header), "signature %q", r.Header.Get(webhook.HeaderSignature))
	var p webhook.Payload
	require.NoError(t, json.Unmarshal(r.Body, &p))
	require.Equal(t, p.ID, r.Header.Get(webhook.HeaderID))
	require.Equal(t, p.Seq, mustUint(t, r.Header.Get(webhook.HeaderSequence)))
	return p
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}
