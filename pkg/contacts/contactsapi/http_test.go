package contactsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/blocklist/blocklistapi"
	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/calls/callsapi"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/contacts/contactsapi"
	"github.com/wagate/wagate/pkg/event"
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

// bundle is an API serving the contact, profile, call and blocklist
// routes and a worker running the simulator, on real Postgres, Redis and
// NATS.
type bundle struct {
	t       *testing.T
	st      *store.Store
	bus     *bus.Bus
	rdb     *redis.Client
	keys    names.Redis
	srv     *httptest.Server
	openapi *schemas.OpenAPIDocument
	events  *schemas.Validator
	stop    context.CancelFunc // stops the worker gracefully
	stopped chan struct{}
}

type options struct {
	timeout  time.Duration
	sendRate config.Rate
}

func setup(t *testing.T, o options) *bundle {
	t.Helper()
	st, _ := testenv.Store(t, shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	log := slog.New(slog.DiscardHandler)
	keys := names.NewRedis(prefix)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	{
		d, err := sim.New(sim.Config{Store: st, Redis: rdb, Keys: keys, TimeScale: 0.01, PresenceTTL: 300 * time.Millisecond, Logger: log})
		require.NoError(t, err)
		w := worker.New(worker.Config{
			ID: "w", Shards: shards, Store: st, Bus: b, Redis: rdb, Keys: keys,
			Drivers: map[string]session.Driver{sim.Name: d}, LeaseTTL: time.Second, AckWait: 2 * time.Second,
			ResumeSpread: 20 * time.Millisecond, Logger: log,
		})
		go func() {
			defer close(stopped)
			_ = w.Run(ctx)
		}()
	}
	t.Cleanup(func() { cancel(); <-stopped })
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}

	gin.SetMode(gin.TestMode)
	e := gin.New()
	auth := httpapi.NewAuthenticator(admin, st).Middleware()
	contactsapi.NewHandlers(contactsapi.Config{Store: st, Bus: b, Redis: rdb, Keys: keys, Shards: shards, SendRate: o.sendRate, Timeout: o.timeout, Logger: log}).Mount(e, auth)
	callsapi.NewHandlers(callsapi.Config{Store: st, Bus: b, Redis: rdb, Keys: keys, Shards: shards, Timeout: o.timeout, Logger: log}).Mount(e, auth)
	blocklistapi.NewHandlers(blocklistapi.Config{Store: st, Bus: b, Shards: shards, Timeout: o.timeout, Logger: log}).Mount(e, auth)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	doc, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	return &bundle{t: t, st: st, bus: b, rdb: rdb, keys: keys, srv: srv, openapi: doc, events: v, stop: cancel, stopped: stopped}
}

// channel creates a sim channel; its token is its id.
func (b *bundle) channel(settings string) string {
	b.t.Helper()
	id := ids.New(ids.Channel)
	c := &store.Channel{ID: id, Name: "contacts", TokenHash: httpapi.HashToken(id), Shard: shard.Of(id, shards), Driver: sim.Name}
	if settings != "" {
		c.Settings = json.RawMessage(settings)
	}
	require.NoError(b.t, b.st.CreateChannel(context.Background(), c))
	return id
}

func (b *bundle) command(ch, verb string, env command.Envelope) {
	b.t.Helper()
	raw, err := json.Marshal(env)
	require.NoError(b.t, err)
	require.NoError(b.t, b.bus.PublishCommand(context.Background(), ch, verb, ids.New("req_"), raw))
}

func (b *bundle) sim(ch, action string, args any) {
	b.t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(b.t, err)
	b.command(ch, command.Sim, command.Envelope{Action: action, Args: raw})
}

func (b *bundle) waitState(ch, want string) {
	b.t.Helper()
	testenv.Eventually(b.t, 10*time.Second, func() bool {
		c, err := b.st.Channel(context.Background(), ch)
		return err == nil && c.State == want
	}, "channel %s to be %s", ch, want)
}

// activeChannel creates a channel, starts it and pairs it by a simulated
// scan of phone with push name "Acme".
func (b *bundle) activeChannel(settings string) string {
	b.t.Helper()
	ch := b.channel(settings)
	require.NoError(b.t, b.st.SetDesired(context.Background(), ch, store.DesiredRunning))
	b.command(ch, command.Start, command.Envelope{})
	b.waitState(ch, state.QRPending)
	b.sim(ch, sim.ActionScan, map[string]string{"push_name": "Acme"})
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
// openapi.yaml. body is JSON-encoded unless it is a string or []byte
// (sent as image/jpeg).
func (b *bundle) do(method, path, token string, body any) response {
	b.t.Helper()
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
		require.NoError(b.t, err)
		rd, ct = bytes.NewReader(enc), "application/json"
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
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

// eventsOf reads the channel's events of types starting with prefix, each
// valid against its schema.
func (b *bundle) eventsOf(ch, prefix string) []event.Envelope {
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
			if strings.HasPrefix(ev.Type, prefix) {
				out = append(out, ev)
			}
		}
		if n == 0 {
			return out
		}
	}
}

// awaitEvents waits for n events of the channel starting with prefix.
func (b *bundle) awaitEvents(ch, prefix string, n int) []event.Envelope {
	b.t.Helper()
	var evs []event.Envelope
	testenv.Eventually(b.t, 5*time.Second, func() bool { evs = b.eventsOf(ch, prefix); return len(evs) >= n }, "%d %s events", n, prefix)
	return evs
}

func dataOf(t *testing.T, ev event.Envelope) map[string]any {
	t.Helper()
	var d map[string]any
	require.NoError(t, json.Unmarshal(ev.Data, &d))
	return d
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	e := gin.New()
	none := func(*gin.Context) {}
	mounts := map[string]func(){
		"contacts":  func() { contactsapi.NewHandlers(contactsapi.Config{Bus: &bus.Bus{}}).Mount(e, none) },
		"calls":     func() { callsapi.NewHandlers(callsapi.Config{Bus: &bus.Bus{}}).Mount(e, none) },
		"blocklist": func() { blocklistapi.NewHandlers(blocklistapi.Config{Bus: &bus.Bus{}}).Mount(e, none) },
	}
	for part, mount := range mounts {
		e = gin.New()
		mount()
		ops, err := schemas.ServedBy(part)
		require.NoError(t, err)
		var documented, routes []string
		for _, op := range ops {
			documented = append(documented, op.String())
		}
		for _, r := range e.Routes() {
			p := r.Path
			for _, param := range []string{"id", "contact", "call_id"} {
				p = strings.ReplaceAll(p, ":"+param, "{"+param+"}")
			}
			routes = append(routes, r.Method+" "+p)
		}
		slices.Sort(documented)
		slices.Sort(routes)
		require.NotEmpty(t, routes, part)
		require.Equal(t, documented, routes, "the %s router and schemas/openapi.yaml must list the same routes", part)
	}
}

func checks(t *testing.T, r response) map[string]contacts.Check {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var l contactsapi.CheckList
	require.NoError(t, json.Unmarshal(r.body, &l))
	out := map[string]contacts.Check{}
	for _, c := range l.Data {
		out[c.Phone] = c
	}
	require.Len(t, out, len(l.Data), "one answer per distinct number")
	return out
}

// Numbers are checked once a day: a second check of the same numbers is
// answered from the cache, even with no worker running the channel.
func TestNumberCheck(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.activeChannel("")
	path := "/v1/channels/" + ch + "/contacts/check"

	r := b.do("POST", path, ch, map[string]any{"phones": []string{"+1 (555) 123-4567", "15551230000", "15551234567"}})
	got := checks(t, r)
	require.Equal(t, contacts.Check{Phone: "15551234567", Exists: true, JID: "15551234567@s.whatsapp.net", LID: "276543215551@lid"}, got["15551234567"])
	require.Equal(t, contacts.Check{Phone: "15551230000"}, got["15551230000"], "a number ending in 0000 is not on WhatsApp")
	var order contactsapi.CheckList
	require.NoError(t, json.Unmarshal(r.body, &order))
	require.Equal(t, "15551234567", order.Data[0].Phone, "answers in the order asked")

	for _, bad := range []any{
		map[string]any{"phones": []string{}},
		map[string]any{"phones": []string{"12ab"}},
		map[string]any{"phones": []string{"0044123456789"}},
		map[string]any{"phones": make([]string, contacts.MaxCheck+1)},
		map[string]any{"numbers": []string{"15551234567"}},
	} {
		r := b.do("POST", path, ch, bad)
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %s", bad, r.body)
	}

	b.stop()
	<-b.stopped
	again := checks(t, b.do("POST", path, ch, map[string]any{"phones": []string{"15551234567", "15551230000"}}))
	require.Equal(t, got["15551234567"], again["15551234567"], "answered from the cache")
	require.Equal(t, got["15551230000"], again["15551230000"], "a number not on WhatsApp is cached too")
	r = b.do("POST", path, ch, map[string]any{"phones": []string{"15557654321"}})
	require.Equal(t, http.StatusServiceUnavailable, r.status, "a number not cached needs the worker: %s", r.body)
	require.Equal(t, "channel_unavailable", r.code(t))
}

// Checks that reach WhatsApp take slots of the channel's send rate;
// cached numbers do not.
func TestNumberCheckIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, options{sendRate: config.Rate{N: 1, Per: time.Hour}})
	ch := b.activeChannel(`{"warmup_days": 0}`)
	path := "/v1/channels/" + ch + "/contacts/check"

	checks(t, b.do("POST", path, ch, map[string]any{"phones": []string{"15551234567"}}))
	r := b.do("POST", path, ch, map[string]any{"phones": []string{"15551234568"}})
	require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	require.Equal(t, contacts.CodeRateLimited, r.code(t))
	require.NotEmpty(t, r.header.Get("Retry-After"))
	checks(t, b.do("POST", path, ch, map[string]any{"phones": []string{"15551234567"}})) // cached: no slot needed
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 64)), nil))
	return buf.Bytes()
}

func TestContactsAndProfile(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.activeChannel("")
	base := "/v1/channels/" + ch

	r := b.do("GET", base+"/contacts", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, []any{}, r.json(t)["data"])

	b.sim(ch, sim.ActionContact, map[string]any{"phone": "15552220001", "name": "Bob Builder", "first_name": "Bob",
		"push_name": "bob", "about": "Can we fix it?", "verified_name": "Bob's Builds", "business_name": "Bob's Builds"})
	b.sim(ch, sim.ActionContact, map[string]any{"phone": "15552220002", "push_name": "carol", "picture": true})
	var list contactsapi.ContactList
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.do("GET", base+"/contacts", ch, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.NoError(t, json.Unmarshal(r.body, &list))
		return len(list.Data) == 2
	}, "two contacts")
	require.Equal(t, contacts.Contact{JID: "15552220001@s.whatsapp.net", Phone: "15552220001", LID: "210002225551@lid",
		Name: "Bob Builder", FirstName: "Bob", PushName: "bob", BusinessName: "Bob's Builds"}, list.Data[0])

	// By number, JID or LID: the same contact, with both addresses.
	for _, id := range []string{"15552220001", "15552220001@s.whatsapp.net", "210002225551@lid"} {
		r = b.do("GET", base+"/contacts/"+id, ch, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		c := r.json(t)
		require.Equal(t, "15552220001@s.whatsapp.net", c["jid"])
		require.Equal(t, "210002225551@lid", c["lid"])
		require.Equal(t, "Can we fix it?", c["about"])
		require.Equal(t, "Bob's Builds", c["verified_name"])
	}
	r = b.do("GET", base+"/contacts/15552220000", ch, nil)
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
	require.Equal(t, contacts.CodeContactNotFound, r.code(t))
	r = b.do("GET", base+"/contacts/120363000000000001@g.us", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)

	// Pictures.
	r = b.do("GET", base+"/contacts/15552220001/picture", ch, nil)
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
	require.Equal(t, contacts.CodePictureNotFound, r.code(t))
	r = b.do("GET", base+"/contacts/15552220002/picture?preview=true", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "preview", r.json(t)["type"])
	require.NotEmpty(t, r.json(t)["id"])
	r = b.do("GET", base+"/contacts/15552220002/picture?preview=maybe", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	b.sim(ch, sim.ActionContact, map[string]any{"phone": "15552220002", "picture_hidden": true})
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.do("GET", base+"/contacts/15552220002/picture", ch, nil)
		return r.status == http.StatusForbidden
	}, "the picture hidden")
	require.Equal(t, contacts.CodePictureHidden, r.code(t))

	// Own profile.
	r = b.do("GET", base+"/profile", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	p := r.json(t)
	require.Equal(t, "Acme", p["push_name"], "the push name the phone had when it linked")
	require.Equal(t, "", p["about"])
	require.True(t, strings.HasSuffix(p["lid"].(string), "@lid"))
	r = b.do("PATCH", base+"/profile", ch, map[string]any{"push_name": "Acme Support", "about": "9-17 CET"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "Acme Support", r.json(t)["push_name"])
	require.Equal(t, "9-17 CET", r.json(t)["about"])
	for _, bad := range []any{
		map[string]any{},
		map[string]any{"push_name": ""},
		map[string]any{"push_name": strings.Repeat("x", contacts.MaxPushName+1)},
		map[string]any{"about": strings.Repeat("x", contacts.MaxAbout+1)},
		map[string]any{"status": "x"},
	} {
		r = b.do("PATCH", base+"/profile", ch, bad)
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %s", bad, r.body)
	}
	r = b.do("GET", base+"/profile", ch, nil)
	require.Equal(t, "Acme Support", r.json(t)["push_name"], "refused changes changed nothing")

	r = b.do("PUT", base+"/profile/picture", ch, jpegBytes(t))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	id := r.json(t)["picture_id"]
	require.NotEmpty(t, id)
	r = b.do("GET", base+"/profile", ch, nil)
	require.Equal(t, id, r.json(t)["picture_id"])
	r = b.do("PUT", base+"/profile/picture", ch, []byte("GIF89a not a jpeg"))
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Equal(t, contacts.CodeInvalidImage, r.code(t))
	r = b.do("PUT", base+"/profile/picture", ch, `{"url":"x"}`)
	require.Equal(t, http.StatusUnsupportedMediaType, r.status, "%s", r.body)
	r = b.do("PUT", base+"/profile/picture", ch, make([]byte, contacts.MaxPicture+1))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status, "%s", r.body)
}

func TestBlocklist(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.activeChannel("")
	base := "/v1/channels/" + ch + "/blocklist"

	r := b.do("GET", base, ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, []any{}, r.json(t)["data"])

	r = b.do("PUT", base+"/+15553330001", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, true, r.json(t)["blocked"])
	again := b.do("PUT", base+"/210003335551@lid", ch, nil) // the same user by LID: idempotent
	require.Equal(t, http.StatusOK, again.status, "%s", again.body)
	r = b.do("GET", base, ch, nil)
	require.Equal(t, []any{map[string]any{"jid": "15553330001@s.whatsapp.net", "phone": "15553330001", "lid": "210003335551@lid"}}, r.json(t)["data"])

	r = b.do("PUT", base+"/15553330000", ch, nil)
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
	require.Equal(t, contacts.CodeContactNotFound, r.code(t))
	r = b.do("PUT", base+"/not-a-number", ch, nil)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)

	r = b.do("DELETE", base+"/15553330001@s.whatsapp.net", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, false, r.json(t)["blocked"])
	require.Equal(t, []any{}, r.json(t)["data"])
	r = b.do("DELETE", base+"/15553330001", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "unblocking twice is fine: %s", r.body)
}

func TestRejectCallOnRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.activeChannel("")
	base := "/v1/channels/" + ch + "/calls/"

	r := b.do("POST", base+"CALLUNKNOWN/reject", ch, nil)
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
	require.Equal(t, "call_not_found", r.code(t))

	b.sim(ch, sim.ActionCall, map[string]any{"id": "CALL1", "from": "15554440001"})
	b.awaitEvents(ch, event.CallReceived, 1)
	var rej map[string]any
	testenv.Eventually(t, 5*time.Second, func() bool {
		r = b.do("POST", base+"CALL1/reject", ch, nil)
		rej = r.json(t)
		return r.status == http.StatusOK
	}, "the call rejected")
	require.Equal(t, "CALL1", rej["id"])
	require.Equal(t, "15554440001@s.whatsapp.net", rej["from"])
	require.Equal(t, "api", rej["by"])
	evs := b.awaitEvents(ch, event.CallRejected, 1)
	require.Equal(t, "api", dataOf(t, evs[0])["by"])
	require.Equal(t, "CALL1", dataOf(t, evs[0])["id"])
	require.Equal(t, "CALL1", b.rdb.HGet(context.Background(), b.keys.SimPhone(ch), "last_call_rejected").Val(), "the phone saw the rejection")

	// A call the gateway did not see, with its caller given.
	r = b.do("POST", base+"CALL2/reject", ch, map[string]any{"from": "+1 555 444 0002"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "15554440002@s.whatsapp.net", r.json(t)["from"])
	r = b.do("POST", base+"CALL3/reject", ch, map[string]any{"from": "someone"})
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
}

// With settings.reject_calls every call is rejected at once, and the
// reply text is queued to the caller once per call.
func TestCallsRejectedAutomatically(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.activeChannel(`{"reject_calls": true, "reject_calls_reply": "Please write instead."}`)

	b.sim(ch, sim.ActionCall, map[string]any{"id": "CALLAUTO", "from": "15554440003", "video": true})
	evs := b.awaitEvents(ch, "call.", 2)
	require.Equal(t, event.CallReceived, evs[0].Type, "call.received comes first")
	require.Equal(t, event.CallRejected, evs[1].Type)
	d := dataOf(t, evs[1])
	require.Equal(t, "auto", d["by"])
	require.Equal(t, "CALLAUTO", d["id"])
	msgID, _ := d["reply_message_id"].(string)
	require.NotEmpty(t, msgID)
	testenv.Eventually(t, 5*time.Second, func() bool {
		m, err := b.st.Message(context.Background(), ch, msgID)
		require.NoError(t, err)
		return m.Status == store.StatusSent || m.Status == store.StatusDelivered || m.Status == store.StatusRead
	}, "the reply sent")
	m, err := b.st.Message(context.Background(), ch, msgID)
	require.NoError(t, err)
	require.Equal(t, "15554440003@s.whatsapp.net", m.Chat)
	require.Contains(t, string(m.Body), "Please write instead.")
}

// Every route needs an active channel: a stopped one answers 409 at once.
func TestInactiveChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ch := b.channel("")
	base := "/v1/channels/" + ch
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"POST", base + "/contacts/check", map[string]any{"phones": []string{"15551234567"}}},
		{"GET", base + "/contacts", nil},
		{"GET", base + "/contacts/15551234567", nil},
		{"GET", base + "/contacts/15551234567/picture", nil},
		{"GET", base + "/profile", nil},
		{"PATCH", base + "/profile", map[string]any{"about": "x"}},
		{"PUT", base + "/profile/picture", jpegBytes(t)},
		{"POST", base + "/calls/CALL1/reject", nil},
		{"GET", base + "/blocklist", nil},
		{"PUT", base + "/blocklist/15551234567", nil},
		{"DELETE", base + "/blocklist/15551234567", nil},
	} {
		r := b.do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusConflict, r.status, "%s %s: %s", rq.method, rq.path, r.body)
		require.Equal(t, "channel_not_active", r.code(t))
		require.Equal(t, map[string]any{"state": "inactive"}, r.json(t)["error"].(map[string]any)["details"])
	}
}

// A worker that does not answer in time: 504 owner_timeout; and a request
// it reaches only after its caller's deadline is not run.
func TestOwnerTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, options{timeout: 500 * time.Millisecond})
	ch := b.activeChannel("")

	// A request whose caller gave up before the worker reached it.
	body, err := json.Marshal(contacts.Params{Update: &contacts.ProfileUpdate{About: ptr("too late")}})
	require.NoError(t, err)
	msg := nats.NewMsg(b.bus.Names.RPC(shard.Of(ch, shards), ch, contacts.MethodSetProfile))
	msg.Data = body
	msg.Header.Set(names.HeaderDeadline, time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano))
	_, err = b.bus.Conn.RequestMsg(msg, 300*time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout, "no answer to a caller who left")
	r := b.do("GET", "/v1/channels/"+ch+"/profile", ch, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "", r.json(t)["about"], "the late change did not run")

	b.stop() // the worker hands its shards off; the channel stays active
	<-b.stopped
	// A stand-in owner that takes the shard's requests and never answers.
	held := make(chan *nats.Msg, 16)
	sub, err := b.bus.Conn.ChanSubscribe(b.bus.Names.RPCShardFilter(shard.Of(ch, shards)), held)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/channels/" + ch + "/profile", nil},
		{"PATCH", "/v1/channels/" + ch + "/profile", map[string]any{"about": "x"}},
		{"PUT", "/v1/channels/" + ch + "/blocklist/15551234567", nil},
		{"POST", "/v1/channels/" + ch + "/contacts/check", map[string]any{"phones": []string{"15551234567"}}},
	} {
		r := b.do(rq.method, rq.path, ch, rq.body)
		require.Equal(t, http.StatusGatewayTimeout, r.status, "%s", r.body)
		require.Equal(t, "owner_timeout", r.code(t))
	}
	require.Len(t, held, 4, "each request reached the stand-in once")
}

func ptr[T any](v T) *T { return &v }
