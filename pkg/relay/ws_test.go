package relay_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
)

type wsMsg struct {
	Kind  string          `json:"kind"`
	ID    uint64          `json:"id"`
	Event *event.Envelope `json:"event"`
	Data  json.RawMessage `json:"data"`
}

func (b *bundle) dialWS(path string, hdr map[string]string) *websocket.Conn {
	b.t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(b.srv.URL, "http") + path
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(b.t, err, "dial %s", path)
	b.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func readWS(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		typ, data, err := c.Read(ctx)
		cancel()
		require.NoError(t, err)
		require.Equal(t, websocket.MessageText, typ)
		var m wsMsg
		require.NoError(t, json.Unmarshal(data, &m), "%s", data)
		if m.Kind != "heartbeat" {
			return m
		}
	}
}

func TestWebSocketStreamsAndResumes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	c := b.dialWS("/v1/channels/"+b.chA+"/ws", bearer(b.tokA))
	require.Equal(t, "ready", readWS(t, c).Kind)
	b.publish(b.chB, map[string]int{"n": 1})
	a1 := b.publish(b.chA, map[string]int{"n": 1})
	m := readWS(t, c)
	require.Equal(t, "event", m.Kind)
	assert.Equal(t, a1, m.ID)
	require.NotNil(t, m.Event)
	assert.Equal(t, b.chA, m.Event.ChannelID)
	assert.Equal(t, event.MessageReceived, m.Event.Type)
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))

	a2 := b.publish(b.chA, map[string]int{"n": 2})
	b.publish(b.chB, map[string]int{"n": 2})

	code, tok, raw := 0, struct {
		Token string `json:"token"`
	}{}, ""
	{
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/v1/stream-tokens", strings.NewReader(`{"channel_id":"`+b.chA+`"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.tokA)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		code, raw = resp.StatusCode, readAll(resp)
		require.NoError(t, json.Unmarshal([]byte(raw), &tok))
	}
	require.Equal(t, http.StatusCreated, code, raw)

	c = b.dialWS("/v1/channels/"+b.chA+"/ws?stream_token="+tok.Token+"&last_event_id="+strconv.FormatUint(a1, 10), nil)
	m = readWS(t, c)
	require.Equal(t, "event", m.Kind, "%+v", m)
	assert.Equal(t, a2, m.ID)
	m = readWS(t, c)
	require.Equal(t, "ready", m.Kind)
	assert.JSONEq(t, `{"replayed":1,"resumed":true,"heartbeat_seconds":15}`, string(m.Data))

	t.Run("the admin websocket sees every channel", func(t *testing.T) {
		c := b.dialWS("/v1/ws", bearer(b.admin))
		require.Equal(t, "ready", readWS(t, c).Kind)
		seqA := b.publish(b.chA, map[string]int{"n": 3})
		seqB := b.publish(b.chB, map[string]int{"n": 3})
		assert.Equal(t, seqA, readWS(t, c).ID)
		assert.Equal(t, seqB, readWS(t, c).ID)
	})
	t.Run("a channel token cannot open another channel's websocket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		url := "ws" + strings.TrimPrefix(b.srv.URL, "http") + "/v1/channels/" + b.chB + "/ws"
		_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + b.tokA}}})
		require.Error(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}
