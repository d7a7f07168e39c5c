package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// pairedChannel creates a channel through the API and pairs it by a
// simulated scan.
func pairedChannel(t *testing.T, api client, settings map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "messages"}
	if settings != nil {
		body["settings"] = settings
	}
	code, ch := api.do("POST", "/v1/channels", body)
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id := ch["id"].(string)
	code, _ = api.do("POST", "/v1/channels/"+id+"/start", nil)
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "qr_pending")
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/scan", map[string]any{})
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "active")
	return id
}

func (c client) raw(method, path string, body []byte, header map[string]string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func messageCount(t *testing.T, g *app.Gateway) int {
	var n int
	require.NoError(t, g.Deps.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM messages").Scan(&n))
	return n
}

func TestMessagesThroughTheAPI(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	id := pairedChannel(t, api, nil)
	path := "/v1/channels/" + id + "/messages"

	send := []byte(`{"to":"+1 (555) 010-2030","type":"text","text":"hello from wagate"}`)
	code, hdr, m := api.raw("POST", path, send, map[string]string{"Idempotency-Key": "order-42"})
	require.Equal(t, http.StatusAccepted, code, "%v", m)
	require.Equal(t, "queued", m["status"])
	require.Empty(t, hdr.Get("Idempotent-Replayed"))
	msgID := m["id"].(string)

	// A retry with the same key returns the original message.
	code, hdr, again := api.raw("POST", path, send, map[string]string{"Idempotency-Key": "order-42"})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, msgID, again["id"])
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))
	// The same key with another request is refused.
	code, _, e := api.raw("POST", path, []byte(`{"to":"15550102030","type":"text","text":"other"}`), map[string]string{"Idempotency-Key": "order-42"})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "idempotency_key_reused", e["error"].(map[string]any)["code"])

	testenv.Eventually(t, 15*time.Second, func() bool {
		_, m := api.do("GET", path+"/"+msgID, nil)
		return m["status"] == "read"
	}, "the message to be read")
	n, err := sim.Deliveries(context.Background(), g.Deps.Redis, g.Deps.Keys, msgID)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "sent once despite the retry")

	// Inbound from the simulated phone appears in the log.
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/inbound", map[string]any{"from": "15550102030", "text": "thanks!"})
	require.Equal(t, http.StatusAccepted, code)
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, l := api.do("GET", path+"?direction=inbound", nil)
		return len(l["data"].([]any)) == 1
	}, "the inbound message in the log")
	_, l := api.do("GET", path+"?chat=15550102030", nil)
	require.Len(t, l["data"], 2, "both directions of the chat")

	// Every event of the channel is valid against its schema, one per status step.
	validator, err := schemas.NewValidator()
	require.NoError(t, err)
	counts := map[string]int{}
	for _, ev := range readEvents(t, g, id) {
		raw, _ := json.Marshal(ev)
		require.NoError(t, validator.ValidateEvent(raw), "event %s: %s", ev.Type, raw)
		counts[ev.Type]++
	}
	for _, typ := range []string{"message.sent", "message.delivered", "message.read", "message.received"} {
		require.Equal(t, 1, counts[typ], typ)
	}

	code, h := api.do("GET", "/v1/channels/"+id+"/health", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "good", h["band"], "%v", h)
	require.NotNil(t, h["warming"], "a number paired today is warming")
	// Usage counters are written once a second.
	testenv.Eventually(t, 5*time.Second, func() bool {
		code, u := api.do("GET", "/v1/channels/"+id+"/usage?days=3", nil)
		require.Equal(t, http.StatusOK, code)
		days := u["data"].([]any)
		require.Len(t, days, 3)
		today := days[2].(map[string]any)
		return today["sent"] == float64(1) && today["received"] == float64(1)
	}, "usage to count the send and the inbound message")
}

func TestBadSendsAreRefusedAndNothingIsQueued(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	code, ch := api.do("POST", "/v1/channels", map[string]any{"name": "bad", "settings": map[string]any{"max_queue": 2}})
	require.Equal(t, http.StatusCreated, code)
	id := ch["id"].(string)
	path := "/v1/channels/" + id + "/messages"
	bigImage := `{"to":"15550001111","type":"image","media":{"base64":"` + base64.StdEncoding.EncodeToString(make([]byte, 6<<20)) + `"}}`

	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"malformed JSON", `{"to":`, 400, "invalid_json"},
		{"wrong type of field", `{"to":15550001111,"type":"text","text":"x"}`, 400, "invalid_field_type"},
		{"unknown field", `{"to":"15550001111","type":"text","text":"x","colour":"red"}`, 400, "unknown_field"},
		{"missing type", `{"to":"15550001111","text":"x"}`, 400, "validation_failed"},
		{"unknown type", `{"to":"15550001111","type":"hologram"}`, 400, "unknown_type"},
		{"invalid recipient", `{"to":"0123","type":"text","text":"x"}`, 400, "invalid_recipient"},
		{"missing recipient", `{"type":"text","text":"x"}`, 400, "validation_failed"},
		{"blank text", `{"to":"15550001111","type":"text","text":"  "}`, 400, "validation_failed"},
		{"media without source", `{"to":"15550001111","type":"image","media":{}}`, 400, "validation_failed"},
		{"media URL not http", `{"to":"15550001111","type":"image","media":{"url":"file:///etc/passwd"}}`, 400, "validation_failed"},
		{"oversize media", bigImage, 413, "media_too_large"},
		{"waveform on a plain audio", `{"to":"15550001111","type":"audio","media":{"url":"https://example.com/a.ogg","waveform":[` + strings.Repeat("1,", 63) + `1]}}`, 400, "validation_failed"},
		{"waveform of 3 values", `{"to":"15550001111","type":"audio","voice":true,"media":{"url":"https://example.com/a.ogg","waveform":[1,2,3]}}`, 400, "validation_failed"},
		{"waveform value over 100", `{"to":"15550001111","type":"audio","voice":true,"media":{"url":"https://example.com/a.ogg","waveform":[` + strings.Repeat("1,", 63) + `101]}}`, 400, "validation_failed"},
		{"negative seconds", `{"to":"15550001111","type":"video","media":{"url":"https://example.com/a.mp4","seconds":-1}}`, 400, "validation_failed"},
		{"seconds on an image", `{"to":"15550001111","type":"image","media":{"url":"https://example.com/a.png","seconds":3}}`, 400, "validation_failed"},
		{"thumbnail that is not a JPEG", `{"to":"15550001111","type":"video","media":{"url":"https://example.com/a.mp4","thumbnail":"aGVsbG8="}}`, 400, "validation_failed"},
		{"poll with one option", `{"to":"15550001111","type":"poll","poll":{"name":"q","options":["a"]}}`, 400, "validation_failed"},
		{"location out of range", `{"to":"15550001111","type":"location","location":{"latitude":91,"longitude":0}}`, 400, "validation_failed"},
		{"reaction without message", `{"to":"15550001111","type":"reaction","reaction":{"emoji":"👍"}}`, 400, "validation_failed"},
		{"body over the limit", `{"to":"15550001111","type":"text","text":"` + strings.Repeat("x", 25<<20) + `"}`, 413, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := messageCount(t, g)
			code, _, e := api.raw("POST", path, []byte(tc.body), nil)
			require.Equal(t, tc.status, code, "%v", e)
			require.Equal(t, tc.code, e["error"].(map[string]any)["code"], "%v", e)
			require.Equal(t, before, messageCount(t, g), "nothing queued")
		})
	}

	// Unknown channel, and another channel's token.
	code, _, e := api.raw("POST", "/v1/channels/ch_00000000000000000000000000/messages", []byte(`{"to":"15550001111","type":"text","text":"x"}`), nil)
	require.Equal(t, http.StatusNotFound, code, "%v", e)
	_, other := api.do("POST", "/v1/channels", map[string]any{"name": "other"})
	intruder := client{t: t, base: g.URL(), token: other["token"].(string)}
	code, _, _ = intruder.raw("POST", path, []byte(`{"to":"15550001111","type":"text","text":"x"}`), nil)
	require.Equal(t, http.StatusUnauthorized, code)

	// Backpressure: the channel is not connected, so its queue fills up.
	for range 2 {
		code, _, e := api.raw("POST", path, []byte(`{"to":"15550001111","type":"text","text":"wait"}`), nil)
		require.Equal(t, http.StatusAccepted, code, "%v", e)
	}
	code, hdr, e := api.raw("POST", path, []byte(`{"to":"15550001111","type":"text","text":"too many"}`), nil)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "queue_full", e["error"].(map[string]any)["code"])
	require.NotEmpty(t, hdr.Get("Retry-After"))
}

func TestMarkReadAndPresenceReachThePhone(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	id := pairedChannel(t, api, nil)
	code, _ := api.do("POST", "/v1/channels/"+id+"/read", map[string]any{"chat": "15550102030", "message_ids": []string{"3AABC", "3AABD"}})
	require.Equal(t, http.StatusAccepted, code)
	code, _ = api.do("POST", "/v1/channels/"+id+"/presence", map[string]any{"state": "composing", "chat": "15550102030"})
	require.Equal(t, http.StatusAccepted, code)
	key := g.Deps.Keys.SimPhone(id)
	testenv.Eventually(t, 10*time.Second, func() bool {
		v, _ := g.Deps.Redis.HGetAll(context.Background(), key).Result()
		return v["read"] == "2" && v["presence"] == "composing 15550102030@s.whatsapp.net"
	}, "the phone to see the read receipts and the typing indicator")

	code, e := api.do("POST", "/v1/channels/"+id+"/presence", map[string]any{"state": "composing"})
	require.Equal(t, http.StatusBadRequest, code, "%v", e)
	code, _ = api.do("POST", "/v1/channels/"+id+"/read", map[string]any{"chat": "15550102030", "message_ids": []string{}})
	require.Equal(t, http.StatusBadRequest, code)

	_, idle := api.do("POST", "/v1/channels", map[string]any{"name": "idle"})
	code, e = api.do("POST", "/v1/channels/"+idle["id"].(string)+"/read", map[string]any{"chat": "15550102030", "message_ids": []string{"3AABC"}})
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "channel_not_active", e["error"].(map[string]any)["code"])
}
