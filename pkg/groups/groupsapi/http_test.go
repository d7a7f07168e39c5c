package groupsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups/groupsapi"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
	"github.com/wagate/wagate/schemas"
)

const (
	shards = 2
	admin  = "test-admin-token-0123456789"
)

// bundle is an API serving the group routes and a worker running the
// simulator, on real Postgres, Redis and NATS.
type bundle struct {
	t       *testing.T
	st      *store.Store
	bus     *bus.Bus
	srv     *httptest.Server
	openapi *schemas.OpenAPIDocument
	events  *schemas.Validator
	stop    context.CancelFunc // stops the worker gracefully
	stopped chan struct{}
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st, _ := testenv.Store(t, shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	log := slog.New(slog.DiscardHandler)
	keys := names.NewRedis(prefix)
	d, err := sim.New(sim.Config{Store: st, Redis: rdb, Keys: keys, TimeScale: 0.01, PresenceTTL: 300 * time.Millisecond, Logger: log})
	require.NoError(t, err)
	w := worker.New(worker.Config{
		ID: "w", Shards: shards, Store: st, Bus: b, Redis: rdb, Keys: keys,
		Drivers: map[string]session.Driver{sim.Name: d}, LeaseTTL: time.Second, AckWait: 2 * time.Second,
		ResumeSpread: 20 * time.Millisecond, Logger: log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-stopped })

	gin.SetMode(gin.TestMode)
	e := gin.New()
	h := groupsapi.NewHandlers(groupsapi.Config{Store: st, Bus: b, Shards: shards, Timeout: 3 * time.Second, Logger: log})
	h.Mount(e, httpapi.NewAuthenticator(admin, st).Middleware())
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	doc, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	return &bundle{t: t, st: st, bus: b, srv: srv, openapi: doc, events: v, stop: cancel, stopped: stopped}
}

// channel creates a sim channel; its token is its id.
func (b *bundle) channel() string {
	b.t.Helper()
	id := ids.New(ids.Channel)
	c := &store.Channel{ID: id, Name: "groups", TokenHash: httpapi.HashToken(id), Shard: shard.Of(id, shards), Driver: sim.Name}
	require.NoError(b.t, b.st.CreateChannel(context.Background(), c))
	return id
}

func (b *bundle) command(ch, verb string, env command.Envelope) {
	b.t.Helper()
	raw, err := json.Marshal(env)
	require.NoError(b.t, err)
	require.NoError(b.t, b.bus.PublishCommand(context.Background(), ch, verb, ids.New("req_"), raw))
}

func (b *bundle) waitState(ch, want string) {
	b.t.Helper()
	testenv.Eventually(b.t, 10*time.Second, func() bool {
		c, err := b.st.Channel(context.Background(), ch)
		return err == nil && c.State == want
	}, "channel %s to be %s", ch, want)
}

// activeChannel creates a channel, starts it and pairs it by a simulated scan.
func (b *bundle) activeChannel() string {
	b.t.Helper()
	ch := b.channel()
	require.NoError(b.t, b.st.SetDesired(context.Background(), ch, store.DesiredRunning))
	b.command(ch, command.Start, command.Envelope{})
	b.waitState(ch, state.QRPending)
	b.command(ch, command.Sim, command.Envelope{Action: sim.ActionScan, Args: json.RawMessage(`{}`)})
	b.waitState(ch, state.Active)
	return ch
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "%s", r.body)
	return m
}

func (r response) code(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends a request with token and checks the answer is documented in
// openapi.yaml. body is JSON-encoded unless it is a string.
func (b *bundle) do(method, path, token string, body any) response {
	b.t.Helper()
	return b.doWith(method, path, token, body, nil)
}

// doWith is do with extra request headers.
func (b *bundle) doWith(method, path, token string, body any, header map[string]string) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			enc, err := json.Marshal(body)
			require.NoError(b.t, err)
			raw = string(enc)
		}
		rd = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	op, ok := b.openapi.Match(method, req.URL.Path)
	require.True(b.t, ok, "%s %s is not documented", method, path)
	require.NoError(b.t, b.openapi.CheckResponse(op, resp.StatusCode, resp.Header.Get("Content-Type"), raw), "%s", raw)
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// groupEvents reads the channel's group events, each valid against its schema.
func (b *bundle) groupEvents(ch string) []event.Envelope {
	b.t.Helper()
	ctx := context.Background()
	cons, err := b.bus.JS.OrderedConsumer(ctx, b.bus.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.bus.Names.EvtChannel(ch)},
	})
	require.NoError(b.t, err)
	var out []event.Envelope
	for {
		batch, err := cons.FetchNoWait(500)
		require.NoError(b.t, err)
		n := 0
		for m := range batch.Messages() {
			n++
			require.NoError(b.t, b.events.ValidateEvent(m.Data()), "%s", m.Data())
			var ev event.Envelope
			require.NoError(b.t, json.Unmarshal(m.Data(), &ev))
			if strings.HasPrefix(ev.Type, "group.") {
				out = append(out, ev)
			}
		}
		if n == 0 {
			return out
		}
	}
}

// awaitEvent waits for the n-th group event of the channel and returns its type and data.
func (b *bundle) awaitEvent(ch string, n int) (string, map[string]any) {
	b.t.Helper()
	var evs []event.Envelope
	testenv.Eventually(b.t, 5*time.Second, func() bool { evs = b.groupEvents(ch); return len(evs) >= n }, "%d group events", n)
	var d map[string]any
	require.NoError(b.t, json.Unmarshal(evs[n-1].Data, &d))
	return evs[n-1].Type, d
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	ops, err := schemas.ServedBy("groups")
	require.NoError(t, err)
	var documented []string
	for _, op := range ops {
		documented = append(documented, op.String())
	}
	e := gin.New()
	groupsapi.NewHandlers(groupsapi.Config{Bus: &bus.Bus{}}).Mount(e, func(*gin.Context) {})
	var routes []string
	for _, r := range e.Routes() {
		p := r.Path
		for _, param := range []string{"id", "gid"} {
			p = strings.ReplaceAll(p, ":"+param, "{"+param+"}")
		}
		routes = append(routes, r.Method+" "+p)
	}
	slices.Sort(documented)
	slices.Sort(routes)
	require.Equal(t, documented, routes, "the router and schemas/openapi.yaml must list the same routes")
}

func TestGroupsThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.activeChannel()
	base := "/v1/channels/" + ch + "/groups"
	bob, carol := "15550005001@s.whatsapp.net", "15550005002@s.whatsapp.net"

	r := b.do("POST", base, ch, map[string]any{"name": "Support", "participants": []string{"+1 555 000 5001", carol, bob}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	g := r.json(t)
	gid := g["id"].(string)
	require.Equal(t, "Support", g["name"])
	require.Len(t, g["participants"], 3, "the account and two participants; duplicates dropped")
	typ, d := b.awaitEvent(ch, 1)
	require.Equal(t, event.GroupCreated, typ)
	require.Equal(t, gid, d["group"])
	require.Equal(t, "created", d["reason"])

	r = b.do("GET", base, admin, nil)
	require.Equal(t, http.StatusOK, r.status)
	list := r.json(t)["data"].([]any)
	require.Len(t, list, 1)
	require.Equal(t, gid, list[0].(map[string]any)["id"])

	dave := "15550005003@s.whatsapp.net"
	r = b.do("POST", base+"/"+gid+"/participants", ch, map[string]any{"action": "add", "participants": []string{"15550005003", bob}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.JSONEq(t, fmt.Sprintf(`{"group":%q,"action":"add","participants":[
		{"jid":%q,"status":"ok"},
		{"jid":%q,"status":"failed","code":409,"reason":"already_participant"}]}`, gid, dave, bob), string(r.body))
	typ, d = b.awaitEvent(ch, 2)
	require.Equal(t, event.GroupMemberAdded, typ)
	require.Equal(t, []any{dave}, d["participants"])

	number := strings.TrimSuffix(gid, "@g.us") // the number alone names the group too
	r = b.do("POST", base+"/"+number+"/participants", ch, map[string]any{"action": "remove", "participants": []string{bob}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	typ, d = b.awaitEvent(ch, 3)
	require.Equal(t, event.GroupMemberRemoved, typ)
	require.Equal(t, []any{bob}, d["participants"])

	r = b.do("POST", base+"/"+gid+"/participants", ch, map[string]any{"action": "promote", "participants": []string{carol}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	typ, d = b.awaitEvent(ch, 4)
	require.Equal(t, event.GroupUpdated, typ)
	require.Equal(t, []any{carol}, d["promoted"])

	r = b.do("GET", base+"/"+gid, ch, nil)
	require.Equal(t, http.StatusOK, r.status)
	roles := map[string]string{}
	for _, p := range r.json(t)["participants"].([]any) {
		p := p.(map[string]any)
		roles[p["jid"].(string)] = p["role"].(string)
	}
	require.Equal(t, "admin", roles[carol])
	require.Equal(t, "member", roles[dave])
	require.NotContains(t, roles, bob)

	r = b.do("POST", base+"/"+gid+"/leave", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.JSONEq(t, fmt.Sprintf(`{"group":%q,"left":true}`, gid), string(r.body))
	typ, d = b.awaitEvent(ch, 5)
	require.Equal(t, event.GroupMemberRemoved, typ)
	require.Equal(t, d["by"], d["participants"].([]any)[0], "the account itself left")

	r = b.do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"data":[]}`, string(r.body))
	r = b.do("GET", base+"/"+gid, ch, nil)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, "not_participant", r.code(t))
	r = b.do("GET", base+"/120363999999999999@g.us", ch, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "group_not_found", r.code(t))
	r = b.do("POST", base+"/"+gid+"/leave", ch, map[string]any{})
	require.Equal(t, http.StatusForbidden, r.status)

	// Another channel's token does not reach this channel.
	other := b.channel()
	r = b.do("GET", base, other, nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.activeChannel()
	base := "/v1/channels/" + ch + "/groups"
	gid := "120363000000000001@g.us"
	many := make([]string, 257)
	for i := range many {
		many[i] = fmt.Sprintf("1555%07d", i)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		code               string
	}{
		{"an empty body", "POST", base, "", "invalid_json"},
		{"malformed JSON", "POST", base, `{"name":`, "invalid_json"},
		{"an unknown field", "POST", base, map[string]any{"name": "x", "participants": []string{"15550006001"}, "topic": "t"}, "unknown_field"},
		{"participants not a list", "POST", base, map[string]any{"name": "x", "participants": "15550006001"}, "invalid_field_type"},
		{"no name", "POST", base, map[string]any{"participants": []string{"15550006001"}}, "validation_failed"},
		{"a blank name", "POST", base, map[string]any{"name": "   ", "participants": []string{"15550006001"}}, "validation_failed"},
		{"a name of 101 characters", "POST", base, map[string]any{"name": strings.Repeat("ü", 101), "participants": []string{"15550006001"}}, "validation_failed"},
		{"no participants", "POST", base, map[string]any{"name": "x", "participants": []string{}}, "validation_failed"},
		{"257 participants", "POST", base, map[string]any{"name": "x", "participants": many}, "validation_failed"},
		{"a local number", "POST", base, map[string]any{"name": "x", "participants": []string{"030 1234567"}}, "validation_failed"},
		{"a group as participant", "POST", base, map[string]any{"name": "x", "participants": []string{gid}}, "validation_failed"},
		{"a group id that is not one", "GET", base + "/not-a-group", nil, "validation_failed"},
		{"a user as group", "GET", base + "/15550006001@s.whatsapp.net", nil, "validation_failed"},
		{"an unknown action", "POST", base + "/" + gid + "/participants", map[string]any{"action": "kick", "participants": []string{"15550006001"}}, "validation_failed"},
		{"no action", "POST", base + "/" + gid + "/participants", map[string]any{"participants": []string{"15550006001"}}, "validation_failed"},
		{"no participants to change", "POST", base + "/" + gid + "/participants", map[string]any{"action": "add"}, "validation_failed"},
		{"a body to leave", "POST", base + "/" + gid + "/leave", map[string]any{"really": true}, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(tc.method, tc.path, admin, tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			require.Equal(t, tc.code, r.code(t), "%s", r.body)
		})
	}
	r := b.do("POST", base, admin, map[string]any{"name": "x", "participants": []string{"15550006001"}})
	require.Equal(t, http.StatusCreated, r.status, "the channel still works")
	r = b.do("GET", base, admin, nil)
	require.Len(t, r.json(t)["data"], 1, "no bad request created a group")

	r = b.do("GET", "/v1/channels/ch_00000000000000000000000000/groups", admin, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "channel_not_found", r.code(t))
}

// Every route needs an active channel: a stopped one answers 409 at once.
func TestInactiveChannel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.channel()
	base := "/v1/channels/" + ch + "/groups"
	gid := "120363000000000001@g.us"
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", base, nil},
		{"POST", base, map[string]any{"name": "x", "participants": []string{"15550007001"}}},
		{"GET", base + "/" + gid, nil},
		{"POST", base + "/" + gid + "/participants", map[string]any{"action": "add", "participants": []string{"15550007001"}}},
		{"POST", base + "/" + gid + "/leave", nil},
	} {
		r := b.do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusConflict, r.status, "%s %s: %s", rq.method, rq.path, r.body)
		require.Equal(t, "channel_not_active", r.code(t))
		require.Equal(t, map[string]any{"state": "inactive"}, r.json(t)["error"].(map[string]any)["details"])
	}
}

// A channel whose shard has no owner answers 503 at once, with Retry-After.
func TestChannelWithoutOwner(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.activeChannel()
	b.stop() // the worker hands its shards off; no other takes them
	<-b.stopped

	start := time.Now()
	r := b.do("GET", "/v1/channels/"+ch+"/groups", ch, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	require.Equal(t, "channel_unavailable", r.code(t))
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Less(t, time.Since(start), time.Second, "answered at once, not after the timeout")

	r = b.do("POST", "/v1/channels/"+ch+"/groups", ch, map[string]any{"name": "x", "participants": []string{"15550008001"}})
	require.Equal(t, http.StatusServiceUnavailable, r.status)
}

// A group creation with an Idempotency-Key creates one group however often
// it is retried; the same key with another request is refused.
func TestGroupCreationWithAnIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch := b.activeChannel()
	base := "/v1/channels/" + ch + "/groups"
	create := map[string]any{"name": "Orders", "participants": []string{"15550006001"}}
	key := map[string]string{"Idempotency-Key": "team-orders-1"}

	first := b.doWith("POST", base, ch, create, key)
	require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
	require.Empty(t, first.header.Get("Idempotent-Replayed"))
	again := b.doWith("POST", base, ch, create, key)
	require.Equal(t, http.StatusCreated, again.status, "%s", again.body)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.body), string(again.body), "the retry answers the group the first request created")

	r := b.do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.json(t)["data"], 1, "one group for two requests")

	r = b.doWith("POST", base, ch, map[string]any{"name": "Other", "participants": []string{"15550006001"}}, key)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	require.Equal(t, "idempotency_key_reused", r.code(t))

	// Without a key, or with another, each request creates a group.
	require.Equal(t, http.StatusCreated, b.do("POST", base, ch, create).status)
	require.Equal(t, http.StatusCreated, b.doWith("POST", base, ch, create, map[string]string{"Idempotency-Key": "team-orders-2"}).status)
	r = b.do("GET", base, ch, nil)
	require.Len(t, r.json(t)["data"], 3)

	r = b.doWith("POST", base, ch, create, map[string]string{"Idempotency-Key": "has space"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "validation_failed", r.code(t))
}
