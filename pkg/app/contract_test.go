package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// The published schemas are the contract for code that never sees ours:
// every webhook body a receiver gets validates against
// schemas/events (envelope plus the type's data), and every command the
// API stored in WA_CMD validates against schemas/commands — after a
// session that pairs, sends several kinds of message, receives, marks
// read, sets presence and restarts the channel.
func TestWebhookBodiesAndPublishedCommandsMatchThePublishedSchemas(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)

	env := gatewayEnv(t)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	// Commands are consumed from WA_CMD (a work queue) once executed, so
	// they are captured as the API publishes them.
	var cmdMu sync.Mutex
	var cmds []*nats.Msg
	sub, err := g.Deps.Bus.Conn.Subscribe(g.Deps.Bus.Names.CmdIn(), func(m *nats.Msg) {
		cmdMu.Lock()
		cmds = append(cmds, m)
		cmdMu.Unlock()
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	code, wh := api.do("POST", "/v1/webhooks", map[string]any{"url": rcv.URL})
	require.Equal(t, http.StatusCreated, code, "%v", wh)

	id := pairedChannel(t, api, nil)
	msgs := "/v1/channels/" + id + "/messages"
	for _, body := range []map[string]any{
		{"to": "15550102030", "type": "text", "text": "hello"},
		{"to": "15550102030", "type": "location", "location": map[string]any{"latitude": 52.52, "longitude": 13.4, "name": "Berlin"}},
		{"to": "15550102030", "type": "contact", "contact": map[string]any{"name": "Ada", "phone": "15550102031"}},
	} {
		code, m := api.do("POST", msgs, body)
		require.Equal(t, http.StatusAccepted, code, "%v", m)
	}
	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/inbound", map[string]any{"from": "15550102030", "text": "thanks!"})
	require.Equal(t, http.StatusAccepted, code)
	var inbound string
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, l := api.do("GET", msgs+"?direction=inbound", nil)
		data, _ := l["data"].([]any)
		if len(data) == 1 {
			inbound, _ = data[0].(map[string]any)["id"].(string)
		}
		return inbound != ""
	}, "the inbound message in the log")
	code, _ = api.do("POST", "/v1/channels/"+id+"/read", map[string]any{"chat": "15550102030", "message_ids": []string{inbound}})
	require.Equal(t, http.StatusAccepted, code)
	code, _ = api.do("POST", "/v1/channels/"+id+"/presence", map[string]any{"state": "composing", "chat": "15550102030"})
	require.Equal(t, http.StatusAccepted, code)
	code, _ = api.do("POST", "/v1/channels/"+id+"/restart", nil)
	require.Equal(t, http.StatusAccepted, code)
	var statuses []any
	testenv.Eventually(t, 20*time.Second, func() bool {
		_, l := api.do("GET", msgs+"?direction=outbound", nil)
		data, _ := l["data"].([]any)
		read := 0
		statuses = statuses[:0]
		for _, m := range data {
			statuses = append(statuses, m.(map[string]any)["status"])
			if m.(map[string]any)["status"] == "read" {
				read++
			}
		}
		return read == 3
	}, "the three sends to be read (%v)", &statuses)

	v, err := schemas.NewValidator()
	require.NoError(t, err)
	// Webhooks: every body received until the last read arrived.
	testenv.Eventually(t, 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, b := range bodies {
			if strings.Contains(string(b), `"type":"message.read"`) {
				n++
			}
		}
		return n == 3
	}, "three message.read webhooks")
	mu.Lock()
	got := append([][]byte(nil), bodies...)
	mu.Unlock()
	types := map[string]bool{}
	for _, b := range got {
		require.NoError(t, v.ValidateEvent(b), "webhook body %s", b)
		var env struct {
			Type string `json:"type"`
			Seq  *int64 `json:"seq"`
		}
		require.NoError(t, json.Unmarshal(b, &env))
		require.NotNil(t, env.Seq, "a webhook body carries seq: %s", b)
		types[env.Type] = true
	}
	for _, typ := range []string{"connection.qr", "connection.status_changed", "message.sent", "message.delivered", "message.read", "message.received"} {
		require.True(t, types[typ], "a %s webhook among %v", typ, types)
	}

	// Commands: everything the API published for the channel.
	cmdMu.Lock()
	defer cmdMu.Unlock()
	verbs := map[string]int{}
	for _, m := range cmds {
		if !strings.Contains(m.Subject, "."+id+".") {
			continue
		}
		verb := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		require.NoError(t, v.ValidateCommand(verb, m.Data), "command %s: %s", m.Subject, m.Data)
		verbs[verb]++
	}
	for _, verb := range []string{"start", "sim", "send", "read", "presence", "restart"} {
		require.NotZero(t, verbs[verb], "a stored %s command among %v", verb, verbs)
	}
}
