package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// sseSink writes Server-Sent Events. Events carry their sequence as id and
// their type as event name, so EventSource.addEventListener("message.sent")
// works; with ?event_names=false they carry no name and onmessage sees
// them all (the behaviour before names). ready and reset are named events
// either way; heartbeats are comments.
type sseSink struct {
	ctx     context.Context
	w       gin.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	buf     []byte
	// unnamed leaves out the event name (?event_names=false).
	unnamed bool
}

var _ sink = (*sseSink)(nil)

func (r *Relay) openSSE(c *gin.Context, unnamed bool) *sseSink {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store, no-transform")
	// Reverse proxies (ingress-nginx) must not buffer the stream.
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	s := &sseSink{ctx: c.Request.Context(), w: c.Writer, rc: http.NewResponseController(c.Writer), timeout: r.cfg.WriteTimeout, unnamed: unnamed}
	s.buf = fmt.Appendf(s.buf[:0], "retry: %d\n\n", r.cfg.Retry.Milliseconds())
	_, _ = s.w.Write(s.buf)
	return s
}

func (s *sseSink) context() context.Context { return s.ctx }

func (s *sseSink) begin() { _ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout)) }

func (s *sseSink) event(f frame) error {
	b := f.sse
	if s.unnamed {
		b = b[f.named:]
	}
	_, err := s.w.Write(b)
	return err
}

func (s *sseSink) control(kind string, id uint64, data any) error {
	body, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("relay: encode %s: %w", kind, err)
	}
	s.buf = appendID(s.buf[:0], id)
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, kind...)
	s.buf = append(s.buf, "\ndata: "...)
	s.buf = append(s.buf, body...)
	s.buf = append(s.buf, "\n\n"...)
	_, err = s.w.Write(s.buf)
	return err
}

// heartbeat is a comment; with an id, EventSource also moves its
// lastEventId there without dispatching anything (an event with no data).
func (s *sseSink) heartbeat(id uint64) error {
	s.buf = appendID(s.buf[:0], id)
	s.buf = append(s.buf, ": heartbeat\n\n"...)
	_, err := s.w.Write(s.buf)
	return err
}

func (s *sseSink) flush() error { return s.rc.Flush() }

func (s *sseSink) close(reason string) {
	if reason == "slow" || reason == "write_timeout" {
		// An expired deadline makes net/http's final write fail at once,
		// so it closes the connection instead of waiting on the client.
		_ = s.rc.SetWriteDeadline(time.Now())
		return
	}
	// Keep-alive reuse of the connection must not inherit the deadline.
	_ = s.rc.SetWriteDeadline(time.Time{})
}

func appendID(b []byte, id uint64) []byte {
	if id == 0 {
		return b
	}
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, id, 10)
	return append(b, '\n')
}
