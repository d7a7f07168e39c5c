package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

func TestChannelLifecycleThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})

	// Create.
	r := b.post("/v1/channels", b.admin, map[string]any{
		"name":     "  Support line  ",
		"settings": map[string]any{"send_rate": " 30/m ", "warmup_days": 3},
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	m := r.json(t)
	id, token := m["id"].(string), m["token"].(string)
	require.True(t, strings.HasPrefix(id, "ch_"), id)
	require.True(t, strings.HasPrefix(token, api.TokenPrefix), token)
	require.Equal(t, "Support line", m["name"])
	require.Equal(t, state.Inactive, m["state"])
	require.Equal(t, store.DesiredStopped, m["desired_state"])
	require.Equal(t, "whatsmeow", m["driver"])
	require.EqualValues(t, shard.Of(id, shards), m["shard"])
	require.Equal(t, map[string]any{"send_rate": "30/m", "warmup_days": float64(3)}, m["settings"])
	require.NotEmpty(t, m["created_at"])
	require.Equal(t, "/v1/channels/"+id, r.header.Get("Location"))
	var hash []byte
	require.NoError(t, b.store.Pool.QueryRow(context.Background(), `SELECT token_hash FROM channels WHERE id = $1`, id).Scan(&hash))
	require.NotContains(t, string(hash), token, "the token is stored hashed")

	// Read, with either token; the token is never shown again.
	for _, tok := range []string{b.admin, token} {
		r = b.get("/v1/channels/"+id, tok)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Equal(t, id, r.json(t)["id"])
		require.NotContains(t, string(r.body), token)
	}

	// List and page.
	other := b.create("Sales", "sim")
	r = b.get("/v1/channels?limit=1", b.admin)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	page := r.json(t)
	require.Len(t, page["data"], 1)
	first := page["data"].([]any)[0].(map[string]any)["id"].(string)
	require.Equal(t, first, page["next_after"])
	r = b.get("/v1/channels?limit=1&after="+first, b.admin)
	page = r.json(t)
	require.Len(t, page["data"], 1)
	require.NotEqual(t, first, page["data"].([]any)[0].(map[string]any)["id"])
	r = b.get("/v1/channels?limit=2&after="+page["next_after"].(string), b.admin)
	require.Equal(t, map[string]any{"data": []any{}, "next_after": nil}, r.json(t))
	r = b.get("/v1/channels?state=inactive", b.admin)
	require.Len(t, r.json(t)["data"], 2)
	require.Nil(t, r.json(t)["next_after"])
	r = b.get("/v1/channels?state=active", b.admin)
	require.Empty(t, r.json(t)["data"])

	// Patch: rename, merge settings, remove a key with null, clear with null.
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: token,
		body: map[string]any{"name": "Support", "settings": map[string]any{"typing_ms": 1500, "warmup_days": nil, "presence": map[string]any{"online": false}}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "Support", r.json(t)["name"])
	require.Equal(t, map[string]any{"send_rate": "30/m", "typing_ms": float64(1500), "presence": map[string]any{"online": false}}, r.json(t)["settings"])
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: `{}`})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "Support", r.json(t)["name"], "an empty patch changes nothing")
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: `{"settings": null}`})
	require.Equal(t, map[string]any{}, r.json(t)["settings"])

	// Lifecycle: desired state recorded, command on the channel's shard.
	for _, tc := range []struct {
		verb, desired, token string
	}{
		{command.Start, store.DesiredRunning, token},
		{command.Stop, store.DesiredStopped, b.admin},
		{command.Restart, store.DesiredRunning, token},
		{command.Logout, store.DesiredStopped, b.admin},
	} {
		r = b.post("/v1/channels/"+id+"/"+tc.verb, tc.token, nil)
		require.Equal(t, http.StatusAccepted, r.status, "%s: %s", tc.verb, r.body)
		ans := r.json(t)
		require.Equal(t, map[string]any{"id": id, "action": tc.verb, "state": state.Inactive,
			"desired_state": tc.desired, "request_id": r.header.Get(api.HeaderRequestID)}, ans)
		require.Equal(t, tc.desired, b.desired(id))
		c := b.commands(1)[0]
		require.Equal(t, b.bus.Names.CmdStored(shard.Of(id, shards), id, tc.verb), c.subject)
		require.Equal(t, id, c.channel)
		require.Equal(t, tc.verb, c.verb)
		require.Equal(t, r.header.Get(api.HeaderRequestID), c.env.RequestID)
		require.Equal(t, c.env.RequestID, c.msgID, "without a key, the request id de-duplicates")
		require.WithinDuration(t, time.Now(), c.env.RequestedAt, time.Minute)
	}

	// An Idempotency-Key makes a retry a no-op for the bus.
	for range 2 {
		r = b.do(req{method: http.MethodPost, path: "/v1/channels/" + id + "/start", token: token,
			header: map[string]string{api.HeaderIdempotencyKey: "retry-me-1"}})
		require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	}
	before := b.published()
	c := b.commands(1)[0]
	require.Equal(t, "idem:"+id+":start:retry-me-1", c.msgID)
	require.Equal(t, before, b.published())
	// The same key on another channel is another command.
	r = b.do(req{method: http.MethodPost, path: "/v1/channels/" + other.ID + "/start", token: b.admin,
		header: map[string]string{api.HeaderIdempotencyKey: "retry-me-1"}})
	require.Equal(t, http.StatusAccepted, r.status)
	require.Equal(t, other.ID, b.commands(1)[0].channel)

	// QR: none until the worker writes one; JSON and PNG; expired is none.
	r = b.get("/v1/channels/"+id+"/qr", token)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "qr_not_available", r.code(t))
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "poll again")
	expires := time.Now().Add(time.Minute).UTC().Truncate(time.Second)
	qr, _ := json.Marshal(map[string]any{"code": "2@abcdef,ghijkl,mnopq", "expires_at": expires, "attempt": 2, "max_attempts": 6})
	require.NoError(t, b.redis.Set(context.Background(), b.keys.QR(id), qr, time.Minute).Err())
	r = b.get("/v1/channels/"+id+"/qr", token)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	q := r.json(t)
	require.Equal(t, "2@abcdef,ghijkl,mnopq", q["code"])
	require.Equal(t, expires.Format(time.RFC3339), q["expires_at"])
	require.EqualValues(t, 2, q["attempt"])
	require.EqualValues(t, 6, q["max_attempts"])
	pngBytes, err := base64.StdEncoding.DecodeString(q["image_png_base64"].(string))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(pngBytes))
	require.NoError(t, err)
	require.Equal(t, 256, img.Bounds().Dx())
	r = b.do(req{method: http.MethodGet, path: "/v1/channels/" + id + "/qr", token: b.admin, header: map[string]string{"Accept": "image/png"}})
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "image/png", r.header.Get("Content-Type"))
	require.Equal(t, pngBytes, r.body)
	qr, _ = json.Marshal(map[string]any{"code": "old", "expires_at": time.Now().Add(-time.Second), "attempt": 1, "max_attempts": 6})
	require.NoError(t, b.redis.Set(context.Background(), b.keys.QR(id), qr, time.Minute).Err())
	r = b.get("/v1/channels/"+id+"/qr", token)
	require.Equal(t, "qr_not_available", r.code(t))
	r = b.get("/v1/channels/"+other.ID+"/qr", other.Token)
	require.Equal(t, "qr_not_available", r.code(t))

	// Pair by phone.
	r = b.post("/v1/channels/"+id+"/pair-phone", token, map[string]any{"phone": "+49 151-2345 678"})
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.Equal(t, "491512345678", r.json(t)["phone"])
	c = b.commands(1)[0]
	require.Equal(t, command.PairPhone, c.verb)
	require.Equal(t, "491512345678", c.env.Phone)
	require.Equal(t, store.DesiredRunning, b.desired(id))
	r = b.get("/v1/channels/"+id+"/pairing-code", token)
	require.Equal(t, "pairing_code_not_available", r.code(t))
	code, _ := json.Marshal(map[string]any{"code": "ABCD-1234", "phone": "491512345678", "expires_at": expires})
	require.NoError(t, b.redis.Set(context.Background(), b.keys.PairingCode(id), code, time.Minute).Err())
	r = b.get("/v1/channels/"+id+"/pairing-code", token)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, map[string]any{"code": "ABCD-1234", "phone": "491512345678", "expires_at": expires.Format(time.RFC3339)}, r.json(t))

	// History, written by a worker, newest first, paged.
	f := store.Fence{Shard: shard.Of(id, shards), Worker: "w1"}
	f.Epoch, err = b.store.TakeEpoch(context.Background(), f.Shard, f.Worker)
	require.NoError(t, err)
	steps := []string{state.Initializing, state.QRPending, state.Authenticating, state.Connecting, state.Active}
	from := state.Inactive
	for _, to := range steps {
		var opts []store.StateOpt
		if to == state.Active {
			opts = append(opts, store.WithDevice("491512345678:1@s.whatsapp.net", "491512345678", "Support"))
		}
		require.NoError(t, b.store.SetState(context.Background(), f, id, store.Transition{From: from, To: to, Reason: "test", At: time.Now()}, opts...))
		from = to
	}
	r = b.get("/v1/channels/"+id+"/history?limit=2", token)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	h := r.json(t)
	data := h["data"].([]any)
	require.Len(t, data, 2)
	require.Equal(t, state.Active, data[0].(map[string]any)["to"])
	require.Equal(t, state.Connecting, data[1].(map[string]any)["to"])
	r = b.get("/v1/channels/"+id+"/history?before="+jsonNumber(h["next_before"]), token)
	data = r.json(t)["data"].([]any)
	require.Len(t, data, 3)
	require.Equal(t, state.Initializing, data[2].(map[string]any)["to"])
	require.Nil(t, r.json(t)["next_before"])

	// Paired now: QR 404 says so, pairing by phone is refused.
	r = b.get("/v1/channels/"+id+"/qr", token)
	require.Equal(t, "qr_not_available", r.code(t))
	require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "already paired")
	snap := b.snapshot()
	r = b.post("/v1/channels/"+id+"/pair-phone", token, map[string]any{"phone": "4915112345678"})
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "already_paired", r.code(t))
	require.Equal(t, snap, b.snapshot())

	// Simulator controls.
	r = b.post("/v1/sim/channels/"+other.ID+"/inbound", other.Token, map[string]any{"from": "4915112345678", "text": "hi"})
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	c = b.commands(1)[0]
	require.Equal(t, command.Sim, c.verb)
	require.Equal(t, "inbound", c.env.Action)
	require.JSONEq(t, `{"from":"4915112345678","text":"hi"}`, string(c.env.Args))
	r = b.post("/v1/sim/channels/"+other.ID+"/scan", b.admin, nil)
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.JSONEq(t, `{}`, string(b.commands(1)[0].env.Args))
	r = b.post("/v1/sim/channels/"+id+"/scan", b.admin, nil)
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "not_simulated", r.code(t))
	r = b.post("/v1/sim/channels/"+other.ID+"/explode", b.admin, nil)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "unknown_action", r.code(t))

	// Bulk: duplicates once, unknown ids reported, one command each.
	third := b.create("Third", "")
	r = b.post("/v1/channels/bulk", b.admin, map[string]any{"action": "stop", "ids": []string{id, third.ID, "ch_nope", id, "bad.id"}})
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.Equal(t, []any{
		map[string]any{"id": id, "status": "accepted"},
		map[string]any{"id": third.ID, "status": "accepted"},
		map[string]any{"id": "ch_nope", "status": "not_found"},
		map[string]any{"id": "bad.id", "status": "not_found"},
	}, r.json(t)["results"])
	cmds := b.commands(2)
	got := map[string]string{}
	for _, c := range cmds {
		got[c.channel] = c.verb
		require.Equal(t, c.env.RequestID+":"+c.channel, c.msgID)
	}
	require.Equal(t, map[string]string{id: command.Stop, third.ID: command.Stop}, got)
	require.Equal(t, store.DesiredStopped, b.desired(third.ID))
	r = b.post("/v1/channels/bulk", b.admin, map[string]any{"action": "start", "ids": []string{"ch_nope"}})
	require.Equal(t, http.StatusAccepted, r.status, "unknown ids only: nothing failed")

	// Delete: gone from the API at once, token dead, delete command queued.
	r = b.do(req{method: http.MethodDelete, path: "/v1/channels/" + third.ID, token: third.Token})
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.Equal(t, store.DesiredDeleted, r.json(t)["desired_state"])
	c = b.commands(1)[0]
	require.Equal(t, command.Delete, c.verb)
	require.Equal(t, third.ID, c.channel)
	r = b.get("/v1/channels/"+third.ID, b.admin)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "channel_not_found", r.code(t))
	r = b.get("/v1/channels/"+third.ID, third.Token)
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = b.get("/v1/channels", b.admin)
	require.Len(t, r.json(t)["data"], 2)

	// No token ever reaches the logs.
	logs := b.logs.String()
	require.Contains(t, logs, `"route":"/v1/channels/:id/start"`)
	for _, secret := range []string{b.admin, token, other.Token, third.Token} {
		require.NotContains(t, logs, secret)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
