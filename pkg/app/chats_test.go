package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// chatsOf lists every chat of a channel, page by page (limit per page).
func chatsOf(t *testing.T, cc *conformingClient, token, id, query string, limit int) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for range 20 {
		path := "/v1/channels/" + id + "/chats?limit=" + itoa(limit) + query
		if after != "" {
			path += "&after=" + after
		}
		page := cc.expect(call{method: "GET", path: path, token: token}, http.StatusOK, "").json(t)
		for _, c := range page["data"].([]any) {
			out = append(out, c.(map[string]any))
		}
		next, _ := page["next_after"].(string)
		if next == "" {
			return out
		}
		after = next
	}
	t.Fatal("the chat list does not end")
	return nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestChatsThroughTheAPI(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	token := g.AdminToken()
	api := client{t: t, base: g.URL(), token: token}
	cc := newConformingClient(t, g.URL())
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	id := pairedChannel(t, api, nil)
	base := "/v1/channels/" + id

	events := func() []map[string]any {
		var out []map[string]any
		for _, ev := range readEvents(t, g, id) {
			if ev.Type != event.ChatUpdated {
				continue
			}
			raw, err := json.Marshal(ev)
			require.NoError(t, err)
			require.NoError(t, v.ValidateEvent(raw), "%s", raw)
			var d map[string]any
			require.NoError(t, json.Unmarshal(ev.Data, &d))
			out = append(out, d)
		}
		return out
	}
	byChat := func(list []map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, c := range list {
			out[c["chat"].(string)] = c
		}
		return out
	}

	alice, bob, carol := "15550301001@s.whatsapp.net", "15550301002@s.whatsapp.net", "15550301003@s.whatsapp.net"
	bobLID := sim.LIDOf("15550301002")
	for _, in := range []map[string]any{
		{"from": "15550301001", "text": "hi", "push_name": "Alice"},
		{"from": "15550301001", "text": "are you there?", "push_name": "Alice"},
		{"from": "15550301002", "text": "hello by LID", "push_name": "Bob", "addressing": "lid"},
	} {
		code, _ := api.do("POST", "/v1/sim/channels/"+id+"/inbound", in)
		require.Equal(t, http.StatusAccepted, code)
	}
	code, sent := api.do("POST", base+"/messages", map[string]any{"to": "+1 555 030 1003", "type": "text", "text": "hello Carol"})
	require.Equal(t, http.StatusAccepted, code, "%v", sent)
	testenv.Eventually(t, 15*time.Second, func() bool {
		_, m := api.do("GET", base+"/messages/"+sent["id"].(string), nil)
		c, ok := byChat(chatsOf(t, cc, token, id, "", 50))[carol]
		return m["status"] != "queued" && m["status"] != "sending" && ok && c["last_message"] != nil && len(byChat(chatsOf(t, cc, token, id, "", 50))) == 3
	}, "three chats, the outbound one sent")

	// The list, most recent first, from the message log.
	list := chatsOf(t, cc, token, id, "", 1)
	require.Len(t, list, 3, "paged one by one, every chat once")
	for i := 1; i < len(list); i++ {
		require.GreaterOrEqual(t, list[i-1]["last_at"], list[i]["last_at"], "most recent first")
	}
	chats := byChat(list)
	a := chats[alice]
	require.Equal(t, "Alice", a["name"])
	require.EqualValues(t, 2, a["unread_count"])
	require.Equal(t, "are you there?", a["last_message"].(map[string]any)["body"].(map[string]any)["text"])
	require.Equal(t, false, a["archived"])
	require.Nil(t, a["muted_until"])
	require.Equal(t, bobLID, chats[bob]["chat_lid"])
	require.EqualValues(t, 0, chats[carol]["unread_count"], "an outbound message is not unread")
	require.Equal(t, "outbound", chats[carol]["last_message"].(map[string]any)["direction"])

	// A chat's messages, by either address.
	for _, addr := range []string{bob, bobLID, "15550301002"} {
		msgs := cc.expect(call{method: "GET", path: base + "/chats/" + addr + "/messages", token: token}, http.StatusOK, "").json(t)
		require.Len(t, msgs["data"], 1, addr)
		require.Equal(t, "hello by LID", msgs["data"].([]any)[0].(map[string]any)["body"].(map[string]any)["text"])
	}
	page := cc.expect(call{method: "GET", path: base + "/chats/" + alice + "/messages?limit=1", token: token}, http.StatusOK, "").json(t)
	require.Len(t, page["data"], 1)
	older := cc.expect(call{method: "GET", path: base + "/chats/" + alice + "/messages?limit=1&before=" + page["next_before"].(string), token: token}, http.StatusOK, "").json(t)
	require.Equal(t, "hi", older["data"].([]any)[0].(map[string]any)["body"].(map[string]any)["text"])

	// Unknown and malformed chats; bad changes.
	cc.expect(call{method: "GET", path: base + "/chats/15550309999/messages", token: token}, http.StatusNotFound, "chat_not_found")
	cc.expect(call{method: "GET", path: base + "/chats/not-a-chat/messages", token: token}, http.StatusBadRequest, "")
	cc.expect(call{method: "GET", path: base + "/chats?after=garbage", token: token}, http.StatusBadRequest, "")
	cc.expect(call{method: "PATCH", path: base + "/chats/15550309999", token: token, body: map[string]any{"pinned": true}}, http.StatusNotFound, "chat_not_found")
	cc.expect(call{method: "PATCH", path: base + "/chats/" + alice, token: token, body: map[string]any{}}, http.StatusBadRequest, "")
	cc.expect(call{method: "PATCH", path: base + "/chats/" + alice, token: token, body: map[string]any{"muted_until": "2001-01-01T00:00:00Z"}}, http.StatusBadRequest, "")

	// A change through the API: archived, muted until unmuted, read.
	got := cc.expect(call{method: "PATCH", path: base + "/chats/" + alice, token: token,
		body: map[string]any{"archived": true, "muted_until": "forever", "read": true}}, http.StatusOK, "").json(t)
	require.Equal(t, true, got["archived"])
	require.Equal(t, "9999-12-31T23:59:59Z", got["muted_until"])
	require.EqualValues(t, 0, got["unread_count"])
	archived := chatsOf(t, cc, token, id, "&archived=true", 50)
	require.Len(t, archived, 1)
	require.Equal(t, alice, archived[0]["chat"])
	require.Len(t, chatsOf(t, cc, token, id, "&archived=false", 50), 2)

	// A change on the phone: chat.updated, and the list follows.
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/chat", map[string]any{"chat": bob, "pinned": true, "read": false})
	require.Equal(t, http.StatusAccepted, code)
	var evs []map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { evs = events(); return len(evs) >= 2 }, "chat.updated events")
	require.Len(t, evs, 2, "one event per change: WhatsApp's echo of the API's change is not announced again")
	require.Equal(t, alice, evs[0]["chat"])
	require.ElementsMatch(t, []any{"archived", "muted_until", "read"}, evs[0]["changed"])
	require.Equal(t, bob, evs[1]["chat"])
	require.Equal(t, bobLID, evs[1]["chat_lid"])
	require.ElementsMatch(t, []any{"pinned"}, evs[1]["changed"], "marking unread a chat with an unread message changes no count")
	b := byChat(chatsOf(t, cc, token, id, "", 50))[bob]
	require.Equal(t, true, b["pinned"])
	require.EqualValues(t, 1, b["unread_count"])

	// The phone reads it: the unread count drops.
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/chat", map[string]any{"chat": bobLID, "read": true})
	require.Equal(t, http.StatusAccepted, code)
	testenv.Eventually(t, 10*time.Second, func() bool { return len(events()) == 3 }, "the read's chat.updated")
	require.EqualValues(t, 0, byChat(chatsOf(t, cc, token, id, "", 50))[bob]["unread_count"])

	// Nothing changes on a channel that is not active.
	code, _ = api.do("POST", base+"/stop", nil)
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "inactive")
	cc.expect(call{method: "PATCH", path: base + "/chats/" + alice, token: token, body: map[string]any{"pinned": true}}, http.StatusConflict, "channel_not_active")
	require.Len(t, chatsOf(t, cc, token, id, "", 50), 3, "the list is read whatever the channel's state")

	var n int
	require.NoError(t, g.Deps.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM chats WHERE channel_id = $1`, id).Scan(&n))
	require.Equal(t, 3, n)
}
