package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
)

// wsSink writes WebSocket text messages, one JSON object each:
//
//	{"kind":"event","id":42,"event":{…envelope…}}
//	{"kind":"ready","id":42,"data":{"replayed":3,…}}
//	{"kind":"reset","id":42,"data":{"reason":"expired",…}}
//	{"kind":"heartbeat","id":42}   (id only when the position moved)
//
// Messages from the client are not expected; one closes the connection.
type wsSink struct {
	ctx     context.Context
	conn    *websocket.Conn
	timeout time.Duration
}

var _ sink = (*wsSink)(nil)

// wsMessage is a control or heartbeat message.
type wsMessage struct {
	Kind string `json:"kind"`
	ID   uint64 `json:"id,omitempty"`
	Data any    `json:"data,omitempty"`
}

func (r *Relay) openWS(c *gin.Context) (*wsSink, error) {
	// Accept checks that the Origin is this host, so other sites cannot
	// open a stream with the browser's credentials.
	conn, err := websocket.Accept(c.Writer, c.Request, nil)
	if err != nil {
		return nil, err
	}
	return &wsSink{ctx: conn.CloseRead(c.Request.Context()), conn: conn, timeout: r.cfg.WriteTimeout}, nil
}

func (s *wsSink) context() context.Context { return s.ctx }

func (s *wsSink) begin() {}

func (s *wsSink) write(b []byte) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, b)
}

func (s *wsSink) event(f frame) error { return s.write(f.ws) }

func (s *wsSink) control(kind string, id uint64, data any) error {
	b, err := json.Marshal(wsMessage{Kind: kind, ID: id, Data: data})
	if err != nil {
		return fmt.Errorf("relay: encode %s: %w", kind, err)
	}
	return s.write(b)
}

func (s *wsSink) heartbeat(id uint64) error {
	b, _ := json.Marshal(wsMessage{Kind: "heartbeat", ID: id})
	return s.write(b)
}

func (s *wsSink) flush() error { return nil }

func (s *wsSink) close(reason string) {
	switch reason {
	case "slow", "write_timeout":
		_ = s.conn.Close(websocket.StatusTryAgainLater, "too slow: reconnect with last_event_id")
	case "client_gone":
		_ = s.conn.CloseNow()
	case "shutdown":
		_ = s.conn.Close(websocket.StatusGoingAway, "server shutting down: reconnect with last_event_id")
	default:
		_ = s.conn.Close(websocket.StatusGoingAway, "stream ended")
	}
}
