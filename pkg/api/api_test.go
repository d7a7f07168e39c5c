package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

const shards = 8

// bundle is one API server on real Postgres, Redis and NATS.
type bundle struct {
	t      *testing.T
	srv    *api.Server
	http   *httptest.Server
	store  *store.Store
	redis  *redis.Client
	keys   names.Redis
	bus    *bus.Bus
	admin  string
	doc    *schemas.OpenAPIDocument
	events *schemas.Validator
	logs   *syncBuffer
	box    *secretbox.Box

	consumer jetstream.Consumer
}

type options struct {
	simDisabled bool
	mounts      []func(r *gin.Engine, auth gin.HandlerFunc)
}

func setup(t *testing.T, o options) *bundle {
	t.Helper()
	st, _ := testenv.Store(t, shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	doc, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	v, err := schemas.NewValidator()
	require.NoError(t, err)

	box, _ := testenv.SecretBox(t)
	bd := &bundle{t: t, store: st, redis: rdb, keys: names.NewRedis(prefix), bus: b,
		admin: "admin-" + testenv.Unique(), doc: doc, events: v, logs: &syncBuffer{}, box: box}
	bd.srv, err = api.New(api.Config{
		Store:      st,
		Bus:        b,
		Redis:      rdb,
		Keys:       bd.keys,
		AdminToken: bd.admin,
		Shards:     shards,
		SimEnabled: !o.simDisabled,
		Logger:     slog.New(slog.NewJSONHandler(bd.logs, nil)),
		Mounts:     o.mounts,
		Secrets:    box,
	})
	require.NoError(t, err)
	bd.http = httptest.NewServer(bd.srv.Handler())
	t.Cleanup(bd.http.Close)
	return bd
}

// response is one answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// code is the error code of an error answer.
func (r response) code(t *testing.T) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "not an error answer: %s", r.body)
	return e["code"].(string)
}

// req describes a request; body is sent as is when a string or []byte,
// else encoded as JSON.
type req struct {
	method, path, token string
	body                any
	header              map[string]string
}

// do sends r and checks the answer against openapi.yaml when the route is
// documented.
func (b *bundle) do(r req) response {
	b.t.Helper()
	var body io.Reader
	switch v := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	case []byte:
		body = bytes.NewReader(v)
	case io.Reader:
		body = v
	default:
		raw, err := json.Marshal(v)
		require.NoError(b.t, err)
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(r.method, b.http.URL+r.path, body)
	require.NoError(b.t, err)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)

	require.NotEmpty(b.t, resp.Header.Get(api.HeaderRequestID), "every answer has a request id")
	path, _, _ := strings.Cut(r.path, "?")
	if op, ok := b.doc.Match(r.method, path); ok {
		require.NoError(b.t, b.doc.CheckResponse(op, resp.StatusCode, resp.Header.Get("Content-Type"), out),
			"%s %s answered %d %s", r.method, r.path, resp.StatusCode, out)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

func (b *bundle) get(path, token string) response {
	b.t.Helper()
	return b.do(req{method: http.MethodGet, path: path, token: token})
}

func (b *bundle) post(path, token string, body any) response {
	b.t.Helper()
	return b.do(req{method: http.MethodPost, path: path, token: token, body: body})
}

// created is a channel made through the API.
type created struct {
	ID, Token string
	Shard     int
	Driver    string
}

func (b *bundle) create(name, driver string) created {
	b.t.Helper()
	body := map[string]any{"name": name}
	if driver != "" {
		body["driver"] = driver
	}
	r := b.post("/v1/channels", b.admin, body)
	require.Equal(b.t, http.StatusCreated, r.status, "%s", r.body)
	m := r.json(b.t)
	return created{ID: m["id"].(string), Token: m["token"].(string), Shard: int(m["shard"].(float64)), Driver: m["driver"].(string)}
}

// cmd is one command taken from WA_CMD.
type cmd struct {
	shard          int
	channel, verb  string
	msgID, subject string
	env            command.Envelope
}

// commands takes n commands from WA_CMD (in order), failing when fewer
// arrive, and validates each body against its schema.
func (b *bundle) commands(n int) []cmd {
	b.t.Helper()
	ctx := context.Background()
	if b.consumer == nil {
		c, err := b.bus.JS.CreateOrUpdateConsumer(ctx, b.bus.Names.CmdStream(), jetstream.ConsumerConfig{
			Durable: "api-test", AckPolicy: jetstream.AckExplicitPolicy,
		})
		require.NoError(b.t, err)
		b.consumer = c
	}
	var out []cmd
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		batch, err := b.consumer.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		require.NoError(b.t, err)
		for m := range batch.Messages() {
			k, ch, verb, err := b.bus.Names.ParseCmdStored(m.Subject())
			require.NoError(b.t, err)
			require.NoError(b.t, b.events.ValidateCommand(verb, m.Data()), "%s: %s", verb, m.Data())
			var env command.Envelope
			require.NoError(b.t, json.Unmarshal(m.Data(), &env))
			out = append(out, cmd{shard: k, channel: ch, verb: verb, msgID: m.Headers().Get(names.HeaderMsgID), subject: m.Subject(), env: env})
			require.NoError(b.t, m.Ack())
		}
	}
	require.Len(b.t, out, n, "commands in WA_CMD")
	return out
}

// published is how many commands WA_CMD has ever stored.
func (b *bundle) published() uint64 {
	b.t.Helper()
	s, err := b.bus.JS.Stream(context.Background(), b.bus.Names.CmdStream())
	require.NoError(b.t, err)
	info, err := s.Info(context.Background())
	require.NoError(b.t, err)
	return info.State.LastSeq
}

// snapshot is the channels table as text, to show nothing was written.
func (b *bundle) snapshot() string {
	b.t.Helper()
	var s string
	err := b.store.Pool.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(row_to_json(c)::text, E'\n' ORDER BY id), '') FROM channels c`).Scan(&s)
	require.NoError(b.t, err)
	return s
}

// desiredStates lists each channel's desired state and whether it is
// deleted (what a failed command must leave as it was).
func (b *bundle) desiredStates() string {
	b.t.Helper()
	var s string
	err := b.store.Pool.QueryRow(context.Background(),
		`SELECT coalesce(string_agg(id || ' ' || desired_state || ' ' || (deleted_at IS NULL)::text, E'\n' ORDER BY id), '') FROM channels`).Scan(&s)
	require.NoError(b.t, err)
	return s
}

func (b *bundle) desired(id string) string {
	b.t.Helper()
	var d string
	require.NoError(b.t, b.store.Pool.QueryRow(context.Background(), `SELECT desired_state FROM channels WHERE id = $1`, id).Scan(&d))
	return d
}

// syncBuffer collects logs written from handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
