package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// conformingClient calls a running gateway and checks every answer against
// schemas/openapi.yaml: the route must be documented, and the status,
// media type and JSON body must be what the operation documents. It
// records the operations it exercised.
type conformingClient struct {
	t    *testing.T
	base string
	doc  *schemas.OpenAPIDocument
	seen map[schemas.Operation]bool
}

func newConformingClient(t *testing.T, base string) *conformingClient {
	doc, err := schemas.NewOpenAPIDocument()
	require.NoError(t, err)
	return &conformingClient{t: t, base: base, doc: doc, seen: map[schemas.Operation]bool{}}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "%s", a.body)
	return m
}

func (a answer) code(t *testing.T) string {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// call is one request: body is nil, raw []byte, or encoded as JSON.
type call struct {
	method, path, token string
	body                any
	header              map[string]string
}

func (c *conformingClient) request(ctx context.Context, r call) *http.Request {
	c.t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(c.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, rd)
	require.NoError(c.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	return req
}

// check finds the operation of a request and checks an answer against it.
func (c *conformingClient) check(method, path string, status int, header http.Header, body []byte) {
	c.t.Helper()
	path, _, _ = strings.Cut(path, "?")
	op, ok := c.doc.Match(method, path)
	require.True(c.t, ok, "%s %s is not in schemas/openapi.yaml", method, path)
	c.seen[op] = true
	if status == http.StatusSwitchingProtocols || status == http.StatusNoContent {
		// CheckResponse knows only answers with content; these have none.
		require.Empty(c.t, body)
		require.Contains(c.t, c.statuses(op), strconv.Itoa(status), "%s %s answered %d", method, path, status)
		return
	}
	require.NoError(c.t, c.doc.CheckResponse(op, status, header.Get("Content-Type"), body),
		"%s %s answered %d %s", method, path, status, body)
}

// statuses lists the statuses openapi.yaml documents for op.
func (c *conformingClient) statuses(op schemas.Operation) []string {
	c.t.Helper()
	var doc map[string]any
	require.NoError(c.t, yaml.Unmarshal(schemas.OpenAPI(), &doc))
	var node any = doc
	for _, k := range []string{"paths", op.Path, strings.ToLower(op.Method), "responses"} {
		m, _ := node.(map[string]any)
		node = m[k]
	}
	responses, _ := node.(map[string]any)
	return slices.Collect(maps.Keys(responses))
}

func (c *conformingClient) do(r call) answer {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(c.request(context.Background(), r))
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.check(r.method, r.path, resp.StatusCode, resp.Header, body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// expect makes a request and requires its status (and, for errors, code).
func (c *conformingClient) expect(r call, status int, code string) answer {
	c.t.Helper()
	a := c.do(r)
	require.Equal(c.t, status, a.status, "%s %s: %s", r.method, r.path, a.body)
	if code != "" {
		require.Equal(c.t, code, a.code(c.t), "%s %s", r.method, r.path)
	}
	return a
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, name, data string }

// stream opens an SSE stream and returns its events up to and including
// ready; a refused stream returns its answer instead.
func (c *conformingClient) stream(r call) ([]sseEvent, *answer) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r.method = http.MethodGet
	resp, err := http.DefaultClient.Do(c.request(ctx, r))
	require.NoError(c.t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, err := io.ReadAll(resp.Body)
		require.NoError(c.t, err)
		c.check(r.method, r.path, resp.StatusCode, resp.Header, body)
		return nil, &answer{status: resp.StatusCode, header: resp.Header, body: body}
	}
	c.check(r.method, r.path, resp.StatusCode, resp.Header, nil)
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if cur.data != "" {
				out = append(out, cur)
				if cur.name == "ready" {
					return out, nil
				}
			}
			cur = sseEvent{}
			continue
		}
		field, value, _ := strings.Cut(line, ": ")
		switch field {
		case "id":
			cur.id = value
		case "event":
			cur.name = value
		case "data":
			cur.data = value
		}
	}
	require.Fail(c.t, "the stream ended before its ready event", "%v", sc.Err())
	return nil, nil
}

// socket opens a WebSocket stream and returns its messages up to and
// including ready.
func (c *conformingClient) socket(path string, header http.Header) []map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+path, &websocket.DialOptions{HTTPHeader: header})
	require.NoError(c.t, err, "%s", path)
	defer conn.CloseNow()
	c.check(http.MethodGet, path, resp.StatusCode, resp.Header, nil)
	var out []map[string]any
	for {
		_, b, err := conn.Read(ctx)
		require.NoError(c.t, err)
		var m map[string]any
		require.NoError(c.t, json.Unmarshal(b, &m))
		out = append(out, m)
		if m["kind"] == "ready" {
			return out
		}
	}
}

// componentSchemas compiles schemas of openapi.yaml's components that no
// JSON answer carries (the data of stream events, the webhook payload).
func componentSchemas(t *testing.T, names ...string) map[string]*jsonschema.Schema {
	t.Helper()
	var y any
	require.NoError(t, yaml.Unmarshal(schemas.OpenAPI(), &y))
	raw, err := json.Marshal(y)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	const url = "https://wagate.test/openapi.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	require.NoError(t, c.AddResource(url, doc))
	out := map[string]*jsonschema.Schema{}
	for _, n := range names {
		out[n], err = c.Compile(url + "#/components/schemas/" + n)
		require.NoError(t, err, n)
	}
	return out
}

func validateJSON(t *testing.T, sch *jsonschema.Schema, raw []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err, "%s", raw)
	require.NoError(t, sch.Validate(inst), "%s", raw)
}

// receiver is a webhook endpoint that answers status and keeps the
// bodies it got.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) first() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		return nil
	}
	return r.bodies[0]
}

// TestGatewayAnswersConformToOpenAPI exercises every operation of
// messaging, webhooks and the event streams once through a running
// gateway (and error answers of the main ones), checking each answer
// against schemas/openapi.yaml; the stream events, the webhook payload and
// every event the run publishes are checked against their schemas too.
func TestGatewayAnswersConformToOpenAPI(t *testing.T) {
	env := gatewayEnv(t)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	c := newConformingClient(t, g.URL())
	admin := g.AdminToken()
	id := pairedChannel(t, client{t: t, base: g.URL(), token: admin}, nil)
	ch := "/v1/channels/" + id
	const nobody = "/v1/channels/ch_00000000000000000000000000"
	const phone = "15550102030"

	// A second channel, never started, to fill a queue and to hold a
	// channel token.
	other := c.expect(call{method: "POST", path: "/v1/channels", token: admin, body: map[string]any{"name": "queue", "settings": map[string]any{"max_queue": 1}}}, 201, "").json(t)
	otherPath, otherToken := "/v1/channels/"+other["id"].(string), other["token"].(string)

	// Webhook endpoints first, so the events of the sends below reach them.
	ok, gone := newReceiver(t, http.StatusNoContent), newReceiver(t, http.StatusGone)
	hooks := ch + "/webhooks"
	whOK := c.expect(call{method: "POST", path: hooks, token: admin, body: map[string]any{
		"url": ok.URL + "/hooks", "events": []string{"*"}, "description": "all events", "headers": map[string]string{"x-receiver-token": "s3cret"},
	}}, 201, "").json(t)["id"].(string)
	whGone := c.expect(call{method: "POST", path: hooks, token: admin, body: map[string]any{"url": gone.URL, "events": []string{"message.*"}}}, 201, "").json(t)["id"].(string)
	c.expect(call{method: "POST", path: hooks, token: admin, body: map[string]any{"url": "ftp://example.com"}}, 400, "validation_failed")
	c.expect(call{method: "POST", path: hooks, token: admin, body: map[string]any{"url": ok.URL, "events": []string{"message.typo"}}}, 400, "validation_failed")
	c.expect(call{method: "POST", path: hooks, token: admin, body: map[string]any{"url": ok.URL, "max_in_flight": 65}}, 400, "validation_failed")
	c.expect(call{method: "POST", path: nobody + "/webhooks", token: admin, body: map[string]any{"url": ok.URL}}, 404, "channel_not_found")
	whAdmin := c.expect(call{method: "POST", path: "/v1/webhooks", token: admin, body: map[string]any{"url": ok.URL + "/fleet", "events": []string{"message.sent"}, "max_in_flight": 16}}, 201, "").json(t)["id"].(string)
	c.expect(call{method: "POST", path: "/v1/webhooks", token: otherToken, body: map[string]any{"url": ok.URL}}, 401, "unauthorized")

	// Media: a received image (stored at once), by ranges; a video (fetched
	// on the first request); a message without a file.
	api := client{t: t, base: g.URL(), token: admin}
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/inbound", token: admin, body: map[string]any{"id": "3ACONFIMG", "from": phone, "type": "image"}}, 202, "")
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/inbound", token: admin, body: map[string]any{"id": "3ACONFVID", "from": phone, "type": "video"}}, 202, "")
	imgID, _ := inboundMedia(t, api, id, "3ACONFIMG", "stored")
	vidID, _ := inboundMedia(t, api, id, "3ACONFVID", "pending")
	c.expect(call{method: "GET", path: ch + "/messages/" + imgID + "/media", token: admin}, 200, "")
	c.expect(call{method: "GET", path: ch + "/messages/" + imgID + "/media", token: admin, header: map[string]string{"Range": "bytes=0-9"}}, 206, "")
	c.expect(call{method: "GET", path: ch + "/messages/" + vidID + "/media", token: admin}, 202, "")
	c.expect(call{method: "GET", path: ch + "/messages/msg_00000000000000000000000000/media", token: admin}, 404, "media_not_found")
	c.expect(call{method: "GET", path: nobody + "/messages/" + imgID + "/media", token: admin}, 404, "channel_not_found")

	// Messaging.
	msgs := ch + "/messages"
	send := map[string]any{"to": "+1 (555) 010-2030", "type": "text", "text": "hello"}
	sent := c.expect(call{method: "POST", path: msgs, token: admin, body: send, header: map[string]string{"Idempotency-Key": "conformance-1"}}, 202, "")
	msgID := sent.json(t)["id"].(string)
	again := c.expect(call{method: "POST", path: msgs, token: admin, body: send, header: map[string]string{"Idempotency-Key": "conformance-1"}}, 202, "")
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	c.expect(call{method: "POST", path: msgs, token: admin, body: map[string]any{"to": phone, "type": "text", "text": "other"}, header: map[string]string{"Idempotency-Key": "conformance-1"}}, 422, "idempotency_key_reused")
	c.expect(call{method: "POST", path: msgs, token: admin, body: map[string]any{
		"to": phone, "type": "poll", "poll": map[string]any{"name": "Lunch?", "options": []string{"Pizza", "Sushi"}},
	}}, 202, "")
	c.expect(call{method: "POST", path: msgs, token: admin, body: map[string]any{"to": phone, "type": "hologram"}}, 400, "unknown_type")
	c.expect(call{method: "POST", path: msgs, token: admin, body: []byte(`{"to":`)}, 400, "invalid_json")
	c.expect(call{method: "POST", path: msgs, token: admin, body: []byte(`{"to":"x","type":"text","text":"x"}`), header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type")
	c.expect(call{method: "POST", path: nobody + "/messages", token: admin, body: send}, 404, "channel_not_found")
	c.expect(call{method: "POST", path: msgs, token: otherToken, body: send}, 401, "unauthorized")
	c.expect(call{method: "POST", path: otherPath + "/messages", token: otherToken, body: send}, 202, "")
	full := c.expect(call{method: "POST", path: otherPath + "/messages", token: otherToken, body: send}, 429, "queue_full")
	require.NotEmpty(t, full.header.Get("Retry-After"))

	testenv.Eventually(t, 15*time.Second, func() bool {
		m := c.expect(call{method: "GET", path: msgs + "/" + msgID, token: admin}, 200, "").json(t)
		return m["status"] == "read"
	}, "the message to be read")
	c.expect(call{method: "GET", path: msgs + "/msg_00000000000000000000000000", token: admin}, 404, "message_not_found")
	list := c.expect(call{method: "GET", path: msgs + "?direction=outbound&limit=1", token: admin}, 200, "").json(t)
	require.NotEmpty(t, list["next_before"])
	c.expect(call{method: "GET", path: msgs + "?before=" + list["next_before"].(string), token: admin}, 200, "")
	c.expect(call{method: "GET", path: msgs + "?direction=sideways", token: admin}, 400, "validation_failed")
	c.expect(call{method: "POST", path: ch + "/read", token: admin, body: map[string]any{"chat": phone, "message_ids": []string{msgID}}}, 202, "")
	c.expect(call{method: "POST", path: ch + "/read", token: admin, body: map[string]any{"chat": phone, "message_ids": []string{}}}, 400, "validation_failed")
	c.expect(call{method: "POST", path: ch + "/presence", token: admin, body: map[string]any{"state": "composing", "chat": phone}}, 202, "")
	c.expect(call{method: "POST", path: ch + "/presence", token: admin, body: map[string]any{"state": "available"}}, 202, "")
	c.expect(call{method: "POST", path: ch + "/presence", token: admin, body: map[string]any{"state": "composing"}}, 400, "validation_failed")
	h := c.expect(call{method: "GET", path: ch + "/health", token: admin}, 200, "").json(t)
	require.NotNil(t, h["warming"], "a number paired today is warming")
	require.Nil(t, c.expect(call{method: "GET", path: otherPath + "/health", token: otherToken}, 200, "").json(t)["warming"])
	c.expect(call{method: "GET", path: ch + "/usage?days=3", token: admin}, 200, "")
	c.expect(call{method: "GET", path: ch + "/usage?days=91", token: admin}, 400, "validation_failed")

	// What the simulated phone does, for the events' schemas below.
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/reaction", token: admin, body: map[string]any{"from": phone, "id": "3EB0C0FFEE", "emoji": "👍"}}, 202, "")
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/presence", token: admin, body: map[string]any{"from": phone, "state": "composing"}}, 202, "")
	// The channel is online and follows the chat it sent to: the contact's online status reaches it.
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/presence", token: admin, body: map[string]any{"from": phone, "state": "available"}}, 202, "")
	c.expect(call{method: "POST", path: "/v1/sim/channels/" + id + "/call", token: admin, body: map[string]any{"from": phone, "video": true}}, 202, "")

	// Deliveries: the good endpoint gets them, the gone one is disabled by
	// its first 410 and the deliveries still waiting for it die.
	var delivered map[string]any
	testenv.Eventually(t, 15*time.Second, func() bool {
		page := c.expect(call{method: "GET", path: hooks + "/" + whOK + "/deliveries?status=delivered", token: admin}, 200, "").json(t)
		if data := page["data"].([]any); len(data) > 0 {
			delivered = data[0].(map[string]any)
			return true
		}
		return false
	}, "a delivery to the good endpoint")
	testenv.Eventually(t, 15*time.Second, func() bool {
		return c.expect(call{method: "GET", path: hooks + "/" + whGone, token: admin}, 200, "").json(t)["enabled"] == false
	}, "the endpoint answering 410 to be disabled")
	payloads := componentSchemas(t, "WebhookPayload", "StreamReady", "StreamReset", "StreamMessage")
	validateJSON(t, payloads["WebhookPayload"], ok.first())

	c.expect(call{method: "GET", path: hooks + "/" + whOK + "/deliveries/" + delivered["id"].(string), token: admin}, 200, "")
	c.expect(call{method: "GET", path: hooks + "/" + whOK + "/deliveries/dlv_00000000000000000000000000", token: admin}, 404, "delivery_not_found")
	c.expect(call{method: "GET", path: hooks + "/" + whOK + "/deliveries?limit=1", token: admin}, 200, "")
	c.expect(call{method: "GET", path: hooks + "/" + whOK + "/deliveries?status=lost", token: admin}, 400, "validation_failed")
	c.expect(call{method: "GET", path: hooks + "/dead-letters", token: admin}, 200, "")
	c.expect(call{method: "GET", path: hooks + "/dead-letters?status=failed", token: admin}, 400, "validation_failed")
	c.expect(call{method: "GET", path: hooks, token: otherToken}, 401, "unauthorized")
	require.Len(t, c.expect(call{method: "GET", path: hooks, token: admin}, 200, "").json(t)["data"], 2)
	c.expect(call{method: "GET", path: hooks + "/" + whOK, token: admin}, 200, "")
	c.expect(call{method: "PATCH", path: hooks + "/" + whOK, token: admin, body: map[string]any{"description": "renamed"}}, 200, "")
	c.expect(call{method: "PATCH", path: hooks + "/" + whOK, token: admin, body: map[string]any{"headers": map[string]string{"webhook-id": "x"}}}, 400, "validation_failed")
	rotated := c.expect(call{method: "POST", path: hooks + "/" + whOK + "/rotate", token: admin, body: map[string]any{"grace_period": "1h"}}, 200, "").json(t)
	require.NotEmpty(t, rotated["previous_secret_expires_at"])
	c.expect(call{method: "POST", path: hooks + "/" + whOK + "/rotate", token: admin, body: map[string]any{"grace_period": "1000h"}}, 400, "validation_failed")
	replayed := c.expect(call{method: "POST", path: hooks + "/" + whOK + "/replay", token: admin, body: map[string]any{"event_id": delivered["event_id"]}}, 202, "").json(t)
	require.EqualValues(t, 1, replayed["replayed"])
	c.expect(call{method: "POST", path: hooks + "/" + whOK + "/replay", token: admin, body: map[string]any{"event_id": "evt_00000000000000000000000000"}}, 404, "delivery_not_found")
	c.expect(call{method: "POST", path: hooks + "/" + whOK + "/replay", token: admin, body: map[string]any{}}, 400, "validation_failed")
	c.expect(call{method: "POST", path: hooks + "/" + whGone + "/replay", token: admin, body: map[string]any{"since": time.Now().Add(-time.Hour)}}, 409, "webhook_disabled")
	c.expect(call{method: "PATCH", path: hooks + "/" + whGone, token: admin, body: map[string]any{"enabled": true}}, 200, "")
	c.expect(call{method: "POST", path: hooks + "/" + whGone + "/replay", token: admin, body: map[string]any{"since": time.Now().Add(-time.Hour), "status": "dead"}}, 202, "")
	c.expect(call{method: "DELETE", path: hooks + "/" + whGone, token: admin}, 204, "")
	c.expect(call{method: "DELETE", path: hooks + "/" + whGone, token: admin}, 404, "webhook_not_found")

	// The admin-level endpoint.
	fleet := "/v1/webhooks/" + whAdmin
	require.Len(t, c.expect(call{method: "GET", path: "/v1/webhooks", token: admin}, 200, "").json(t)["data"], 1)
	c.expect(call{method: "GET", path: "/v1/webhooks/" + whOK, token: admin}, 404, "webhook_not_found")
	c.expect(call{method: "GET", path: fleet, token: admin}, 200, "")
	c.expect(call{method: "PATCH", path: fleet, token: admin, body: map[string]any{"events": []string{"message.*", "call.received"}, "max_in_flight": nil}}, 200, "")
	c.expect(call{method: "POST", path: fleet + "/rotate", token: admin}, 200, "")
	var fleetDelivery string
	testenv.Eventually(t, 15*time.Second, func() bool {
		data := c.expect(call{method: "GET", path: fleet + "/deliveries", token: admin}, 200, "").json(t)["data"].([]any)
		if len(data) > 0 {
			fleetDelivery = data[0].(map[string]any)["id"].(string)
		}
		return fleetDelivery != ""
	}, "a delivery to the admin-level endpoint")
	c.expect(call{method: "GET", path: fleet + "/deliveries/" + fleetDelivery, token: admin}, 200, "")
	c.expect(call{method: "POST", path: fleet + "/replay", token: admin, body: map[string]any{"since": time.Now().Add(-time.Hour)}}, 202, "")
	c.expect(call{method: "GET", path: "/v1/webhooks/dead-letters?limit=10", token: admin}, 200, "")
	c.expect(call{method: "DELETE", path: fleet, token: admin}, 204, "")
	c.expect(call{method: "DELETE", path: hooks + "/" + whOK, token: admin}, 204, "")

	// Stream tokens and the streams.
	tok := c.expect(call{method: "POST", path: "/v1/stream-tokens", token: otherToken, body: map[string]any{"channel_id": other["id"]}}, 201, "")
	require.Equal(t, "no-store", tok.header.Get("Cache-Control"))
	channelTok := c.expect(call{method: "POST", path: "/v1/stream-tokens", token: admin, body: map[string]any{"channel_id": id}}, 201, "").json(t)["token"].(string)
	adminTok := c.expect(call{method: "POST", path: "/v1/stream-tokens", token: admin}, 201, "").json(t)["token"].(string)
	c.expect(call{method: "POST", path: "/v1/stream-tokens", token: otherToken}, 401, "unauthorized")
	c.expect(call{method: "POST", path: "/v1/stream-tokens", token: admin, body: map[string]any{"channel_id": "ch_00000000000000000000000000"}}, 404, "channel_not_found")
	c.expect(call{method: "POST", path: "/v1/stream-tokens", token: admin, body: map[string]any{"channel_id": "not a channel"}}, 400, "validation_failed")

	// A resume from the start replays the channel's events before ready.
	evs, refused := c.stream(call{path: ch + "/events?stream_token=" + channelTok, header: map[string]string{"Last-Event-ID": "0"}})
	require.Nil(t, refused)
	require.Greater(t, len(evs), 1)
	ready := evs[len(evs)-1]
	validateJSON(t, payloads["StreamReady"], []byte(ready.data))
	var rd struct {
		Replayed int  `json:"replayed"`
		Resumed  bool `json:"resumed"`
	}
	require.NoError(t, json.Unmarshal([]byte(ready.data), &rd))
	require.True(t, rd.Resumed)
	require.Equal(t, len(evs)-1, rd.Replayed)
	validator, err := schemas.NewValidator()
	require.NoError(t, err)
	for _, ev := range evs[:len(evs)-1] {
		require.NotEmpty(t, ev.id)
		require.NoError(t, validator.ValidateEvent([]byte(ev.data)), "%s", ev.data)
		var env struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &env))
		require.Equal(t, env.Type, ev.name, "events are named after their type")
	}
	// A position beyond the stream's end gets reset, then ready.
	evs, _ = c.stream(call{path: ch + "/events", token: admin, header: map[string]string{"Last-Event-ID": "999999999"}})
	require.Len(t, evs, 2)
	require.Equal(t, "reset", evs[0].name)
	validateJSON(t, payloads["StreamReset"], []byte(evs[0].data))
	evs, _ = c.stream(call{path: "/v1/events?stream_token=" + adminTok})
	require.Len(t, evs, 1, "a fresh stream starts with ready")
	for _, tc := range []struct {
		name   string
		r      call
		status int
		code   string
	}{
		{"malformed last event id", call{path: ch + "/events", token: admin, header: map[string]string{"Last-Event-ID": "latest"}}, 400, "validation_failed"},
		{"unknown stream token", call{path: ch + "/events?stream_token=wgs_nope"}, 401, "invalid_stream_token"},
		{"no token", call{path: ch + "/events"}, 401, "unauthorized"},
		{"stream token of another channel", call{path: ch + "/events?stream_token=" + tok.json(t)["token"].(string)}, 403, "forbidden"},
		{"channel stream token on every channel's stream", call{path: "/v1/events?stream_token=" + channelTok}, 403, "forbidden"},
		{"unknown channel", call{path: nobody + "/events", token: admin}, 404, "channel_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, a := c.stream(tc.r)
			require.NotNil(t, a)
			require.Equal(t, tc.status, a.status, "%s", a.body)
			require.Equal(t, tc.code, a.code(t))
		})
	}

	// WebSocket: a request that is no handshake, then the streams.
	up := c.do(call{method: "GET", path: ch + "/ws", token: admin})
	require.Equal(t, http.StatusUpgradeRequired, up.status)
	c.do(call{method: "GET", path: "/v1/ws", token: admin})
	for _, path := range []string{ch + "/ws?last_event_id=0&stream_token=" + channelTok, "/v1/ws?stream_token=" + adminTok} {
		msgs := c.socket(path, nil)
		for _, m := range msgs {
			raw, err := json.Marshal(m)
			require.NoError(t, err)
			validateJSON(t, payloads["StreamMessage"], raw)
			if m["kind"] == "event" {
				ev, err := json.Marshal(m["event"])
				require.NoError(t, err)
				require.NoError(t, validator.ValidateEvent(ev), "%s", ev)
			}
		}
	}
	c.socket("/v1/ws", http.Header{"Authorization": {"Bearer " + admin}})

	// Every event the run published is valid against its schema, the
	// dispatcher's webhook.disabled and the simulated phone's among them.
	types := map[string]bool{}
	for _, ev := range readEvents(t, g, id) {
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		require.NoError(t, validator.ValidateEvent(raw), "%s", raw)
		types[ev.Type] = true
	}
	for _, typ := range []string{event.WebhookDisabled, event.MessageReaction, event.PresenceUpdated, event.ChatPresence, event.CallReceived, event.MessageRead} {
		require.True(t, types[typ], "a %s event was published", typ)
	}

	// Every operation of these parts was exercised.
	for _, part := range []string{"messaging", "webhook", "relay"} {
		ops, err := schemas.ServedBy(part)
		require.NoError(t, err)
		for _, op := range ops {
			require.True(t, c.seen[op], "%s (%s) was not exercised", op, part)
		}
	}
}
