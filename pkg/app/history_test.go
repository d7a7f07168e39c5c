package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// The history WhatsApp sends after pairing, through the gateway: imported
// conversation by conversation into the chat list and the message log,
// within settings.history_days, once only, announced as history.* events
// and never as message.received.
func TestHistorySyncAfterPairing(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	token := g.AdminToken()
	api := client{t: t, base: g.URL(), token: token}
	cc := newConformingClient(t, g.URL())
	v, err := schemas.NewValidator()
	require.NoError(t, err)

	code, ch := api.do("POST", "/v1/channels", map[string]any{"name": "history", "settings": map[string]any{"history_days": 30}})
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id := ch["id"].(string)
	code, _ = api.do("POST", "/v1/channels/"+id+"/start", nil)
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "qr_pending")
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/scan", map[string]any{"history": map[string]any{"conversations": 3, "messages": 4, "old": 2}})
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "active")

	var progress []map[string]any
	counts := map[string]int{}
	testenv.Eventually(t, 20*time.Second, func() bool {
		progress, counts = nil, map[string]int{}
		for _, ev := range readEvents(t, g, id) {
			counts[ev.Type]++
			if ev.Type == event.HistorySyncProgress {
				var d map[string]any
				require.NoError(t, json.Unmarshal(ev.Data, &d))
				progress = append(progress, d)
			}
			if ev.Type == event.HistoryMessage || ev.Type == event.HistorySyncProgress {
				raw, err := json.Marshal(ev)
				require.NoError(t, err)
				require.NoError(t, v.ValidateEvent(raw), "%s", raw)
			}
		}
		return len(progress) == 1
	}, "history.sync_progress")
	p := progress[0]
	require.Equal(t, "INITIAL_BOOTSTRAP", p["sync_type"])
	require.EqualValues(t, 3, p["conversations"])
	require.EqualValues(t, 12, p["messages"], "four recent messages in each of three conversations")
	require.EqualValues(t, 6, p["skipped"], "the messages older than history_days are left out")
	require.Equal(t, 12, counts[event.HistoryMessage])
	require.Zero(t, counts[event.MessageReceived], "old messages are not announced as received")

	list := chatsOf(t, cc, token, id, "", 50)
	require.Len(t, list, 3)
	for _, c := range list {
		require.Contains(t, c["name"], "History ")
		require.NotNil(t, c["last_message"])
		require.EqualValues(t, 1, c["unread_count"], "WhatsApp's unread count")
	}
	msgs := cc.expect(call{method: "GET", path: "/v1/channels/" + id + "/chats/15550070001/messages", token: token}, http.StatusOK, "").json(t)["data"].([]any)
	require.Len(t, msgs, 4)
	newest := msgs[0].(map[string]any)
	require.Equal(t, "outbound", newest["direction"], "a message sent from the phone is recorded as sent")
	require.Equal(t, "history 1.6", newest["body"].(map[string]any)["text"])
	require.Equal(t, "inbound", msgs[1].(map[string]any)["direction"])
}
