// Package ownertest runs a feature API package against a real owner: a
// worker running the simulator on real Postgres, Redis and NATS, and the
// package's routes on an httptest server whose answers are checked
// against schemas/openapi.yaml. The feature API tests (groupsapi,
// contactsapi, chatsapi, …) share it instead of each building its own.
package ownertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
	"github.com/wagate/wagate/schemas"
)

// Shards is the shard count of a Bundle's fleet.
const Shards = 2

// Options tune a Bundle.
type Options struct {
	// Timeout bounds the routes' wait for the owner (default 5 s).
	Timeout time.Duration
	// Sim adjusts the simulator's configuration before it starts.
	Sim func(*sim.Config)
}

// Mount mounts the routes under test: owner is the Config to build their
// handlers with (Redis and Keys are the bundle's).
type Mount func(e *gin.Engine, auth gin.HandlerFunc, owner ownerclient.Config, b *Bundle)

// Bundle is the routes under test and the worker answering them.
type Bundle struct {
	T       *testing.T
	Store   *store.Store
	Bus     *bus.Bus
	Redis   *redis.Client
	Keys    names.Redis
	Srv     *httptest.Server
	OpenAPI *schemas.OpenAPIDocument
	Events  *schemas.Validator

	stop    context.CancelFunc
	stopped chan struct{}
}

// Setup starts a worker running the simulator and serves the routes mount
// adds.
func Setup(t *testing.T, o Options, mount Mount) *Bundle {
	t.Helper()
	st, _ := testenv.Store(t, Shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	bs := testenv.Bus(t, url, Shards)
	log := slog.New(slog.DiscardHandler)
	keys := names.NewRedis(prefix)
	// Fast delays, but QR codes that show long enough (12 s for the
	// first) for ActiveChannel's scan on a loaded machine.
	sc := sim.Config{Store: st, Redis: rdb, Keys: keys, TimeScale: 0.01, QRTimeScale: 0.2, PresenceTTL: 300 * time.Millisecond, Logger: log}
	if o.Sim != nil {
		o.Sim(&sc)
	}
	d, err := sim.New(sc)
	require.NoError(t, err)
	w := worker.New(worker.Config{
		ID: "w", Shards: Shards, Store: st, Bus: bs, Redis: rdb, Keys: keys,
		// A lease of a few seconds: on a loaded machine a 1 s lease expires
		// between renewals and the shards keep changing hands.
		Drivers: map[string]session.Driver{sim.Name: d}, LeaseTTL: 5 * time.Second, AckWait: 2 * time.Second,
		ResumeSpread: 20 * time.Millisecond, Logger: log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-stopped })
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	doc, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	b := &Bundle{T: t, Store: st, Bus: bs, Redis: rdb, Keys: keys, OpenAPI: doc, Events: v, stop: cancel, stopped: stopped}

	gin.SetMode(gin.TestMode)
	e := gin.New()
	owner := ownerclient.Config{Store: st, Bus: bs, Shards: Shards, Timeout: o.Timeout, Logger: log}
	mount(e, httpapi.NewAuthenticator([]string{Admin}, st).Middleware(), owner, b)
	b.Srv = httptest.NewServer(e)
	t.Cleanup(b.Srv.Close)
	return b
}

// Admin is the admin token of a Bundle's API.
const Admin = "test-admin-token-0123456789"

// StopWorker stops the worker gracefully: it hands its shards off and no
// other worker takes them.
func (b *Bundle) StopWorker() {
	b.stop()
	<-b.stopped
}

// Channel creates a sim channel with settings (JSON, or empty); its token
// is its id.
func (b *Bundle) Channel(settings string) string {
	b.T.Helper()
	id := ids.New(ids.Channel)
	c := &store.Channel{ID: id, Name: "test", TokenHash: httpapi.HashToken(id), Shard: shard.Of(id, Shards), Driver: sim.Name}
	if settings != "" {
		c.Settings = json.RawMessage(settings)
	}
	require.NoError(b.T, b.Store.CreateChannel(context.Background(), c))
	return id
}

// Command publishes a command to the channel.
func (b *Bundle) Command(ch, verb string, env command.Envelope) {
	b.T.Helper()
	raw, err := json.Marshal(env)
	require.NoError(b.T, err)
	require.NoError(b.T, b.Bus.PublishCommand(context.Background(), ch, verb, ids.New("req_"), raw))
}

// Sim runs a simulator action on the channel.
func (b *Bundle) Sim(ch, action string, args any) {
	b.T.Helper()
	raw, err := json.Marshal(args)
	require.NoError(b.T, err)
	b.Command(ch, command.Sim, command.Envelope{Action: action, Args: raw})
}

// WaitState waits until the channel is in state want.
func (b *Bundle) WaitState(ch, want string) {
	b.T.Helper()
	// Generous: pairing a simulated phone takes long on a loaded machine.
	testenv.Eventually(b.T, 30*time.Second, func() bool {
		c, err := b.Store.Channel(context.Background(), ch)
		return err == nil && c.State == want
	}, "channel %s to be %s", ch, want)
}

// ActiveChannel creates a channel with settings, starts it and pairs it by
// a simulated scan of a phone with push name "Acme".
func (b *Bundle) ActiveChannel(settings string) string {
	b.T.Helper()
	ch := b.Channel(settings)
	require.NoError(b.T, b.Store.SetDesired(context.Background(), ch, store.DesiredRunning))
	b.Command(ch, command.Start, command.Envelope{})
	b.WaitState(ch, state.QRPending)
	b.Sim(ch, sim.ActionScan, map[string]string{"push_name": "Acme"})
	b.WaitState(ch, state.Active)
	return ch
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "%s", r.Body)
	return m
}

// Code is the error code of the body.
func (r Response) Code(t *testing.T) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// Do sends a request with token and checks the answer is documented in
// openapi.yaml. body is JSON-encoded unless it is a string (sent as JSON
// as it is) or []byte (sent as image/jpeg).
func (b *Bundle) Do(method, path, token string, body any) Response {
	b.T.Helper()
	return b.DoWith(method, path, token, body, nil)
}

// DoWith is Do with extra request headers.
func (b *Bundle) DoWith(method, path, token string, body any, header map[string]string) Response {
	b.T.Helper()
	var (
		rd io.Reader
		ct string
	)
	switch v := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(v), "image/jpeg"
	case string:
		rd, ct = strings.NewReader(v), "application/json"
	default:
		enc, err := json.Marshal(v)
		require.NoError(b.T, err)
		rd, ct = bytes.NewReader(enc), "application/json"
	}
	req, err := http.NewRequest(method, b.Srv.URL+path, rd)
	require.NoError(b.T, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.T, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.T, err)
	op, ok := b.OpenAPI.Match(method, req.URL.Path)
	require.True(b.T, ok, "%s %s is not documented", method, path)
	require.NoError(b.T, b.OpenAPI.CheckResponse(op, resp.StatusCode, resp.Header.Get("Content-Type"), raw), "%s", raw)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// EventsOf reads the channel's events of types starting with prefix, each
// valid against its schema.
func (b *Bundle) EventsOf(ch, prefix string) []event.Envelope {
	b.T.Helper()
	ctx := context.Background()
	cons, err := b.Bus.JS.OrderedConsumer(ctx, b.Bus.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Bus.Names.EvtChannel(ch)},
	})
	require.NoError(b.T, err)
	var out []event.Envelope
	for {
		batch, err := cons.FetchNoWait(500)
		require.NoError(b.T, err)
		n := 0
		for m := range batch.Messages() {
			n++
			require.NoError(b.T, b.Events.ValidateEvent(m.Data()), "%s", m.Data())
			var ev event.Envelope
			require.NoError(b.T, json.Unmarshal(m.Data(), &ev))
			if strings.HasPrefix(ev.Type, prefix) {
				out = append(out, ev)
			}
		}
		if n == 0 {
			return out
		}
	}
}

// AwaitEvents waits for n events of the channel starting with prefix.
func (b *Bundle) AwaitEvents(ch, prefix string, n int) []event.Envelope {
	b.T.Helper()
	var evs []event.Envelope
	testenv.Eventually(b.T, 15*time.Second, func() bool { evs = b.EventsOf(ch, prefix); return len(evs) >= n }, "%d %s events", n, prefix)
	return evs
}

// DataOf decodes an event's data.
func DataOf(t *testing.T, ev event.Envelope) map[string]any {
	t.Helper()
	var d map[string]any
	require.NoError(t, json.Unmarshal(ev.Data, &d))
	return d
}

// RoutesMatchOpenAPI checks that mount registers exactly the operations
// schemas/openapi.yaml marks as served by part; params are the path
// parameters of its routes.
func RoutesMatchOpenAPI(t *testing.T, part string, mount func(e *gin.Engine, auth gin.HandlerFunc), params ...string) {
	t.Helper()
	e := gin.New()
	mount(e, func(*gin.Context) {})
	ops, err := schemas.ServedBy(part)
	require.NoError(t, err)
	var documented, routes []string
	for _, op := range ops {
		documented = append(documented, op.String())
	}
	for _, r := range e.Routes() {
		p := r.Path
		for _, param := range append([]string{"id"}, params...) {
			p = strings.ReplaceAll(p, ":"+param, "{"+param+"}")
		}
		routes = append(routes, r.Method+" "+p)
	}
	slices.Sort(documented)
	slices.Sort(routes)
	require.NotEmpty(t, routes, part)
	require.Equal(t, documented, routes, "the %s router and schemas/openapi.yaml must list the same routes", part)
}
