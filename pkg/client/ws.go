package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// ChannelSocket streams the channel's events over WebSocket
// (GET /v1/channels/{id}/ws), with the same resume as ChannelEvents.
func (c *Client) ChannelSocket(ctx context.Context, channelID string, o StreamOptions) *Stream {
	return c.wsStream(ctx, path("/v1/channels/", channelID, "/ws"), o)
}

// Socket streams every channel's events over WebSocket (GET /v1/ws).
func (c *Client) Socket(ctx context.Context, o StreamOptions) *Stream {
	return c.wsStream(ctx, "/v1/ws", o)
}

func (c *Client) wsStream(ctx context.Context, p string, o StreamOptions) *Stream {
	hc := *c.http
	hc.Timeout = 0
	return newStream(ctx, o, func(ctx context.Context, last uint64) (streamConn, error) {
		q := url.Values{}
		setStr(q, "stream_token", o.StreamToken)
		if last > 0 {
			q.Set("last_event_id", strconv.FormatUint(last, 10))
		}
		h := http.Header{}
		if o.StreamToken == "" && c.token != "" {
			h.Set("Authorization", "Bearer "+c.token)
		}
		if c.agent != "" {
			h.Set("User-Agent", c.agent)
		}
		conn, resp, err := websocket.Dial(ctx, c.base+withQuery(p, q), &websocket.DialOptions{HTTPClient: &hc, HTTPHeader: h})
		if err != nil {
			if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
				var raw []byte
				if resp.Body != nil {
					raw, _ = io.ReadAll(resp.Body)
				}
				return nil, errorFrom(resp, raw)
			}
			return nil, err
		}
		conn.SetReadLimit(maxBody)
		return &wsConn{ctx: ctx, conn: conn}, nil
	})
}

// wsConn reads StreamMessages from one WebSocket.
type wsConn struct {
	ctx  context.Context
	conn *websocket.Conn
}

var _ streamConn = (*wsConn)(nil)

func (w *wsConn) close() { _ = w.conn.CloseNow() }

func (w *wsConn) next(idle time.Duration) (StreamEvent, error) {
	ctx, cancel := context.WithTimeout(w.ctx, idle)
	defer cancel()
	_, raw, err := w.conn.Read(ctx)
	if err != nil {
		if ctx.Err() != nil && w.ctx.Err() == nil {
			return StreamEvent{}, errIdle
		}
		return StreamEvent{}, fmt.Errorf("client: event socket: %w", err)
	}
	var m struct {
		Kind  string          `json:"kind"`
		ID    uint64          `json:"id"`
		Event json.RawMessage `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return StreamEvent{}, fmt.Errorf("client: event socket: decode: %w", err)
	}
	ev := StreamEvent{ID: m.ID}
	switch m.Kind {
	case kindHeartbeat:
		ev.Kind = kindHeartbeat
		return ev, nil
	case KindEvent:
		return decodeStreamData(ev, KindEvent, m.Event)
	case KindReady, KindReset:
		return decodeStreamData(ev, m.Kind, m.Data)
	default:
		return StreamEvent{}, fmt.Errorf("client: event socket: unknown kind %q", m.Kind)
	}
}
