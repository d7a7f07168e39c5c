package client

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Kinds of StreamEvent.
const (
	// KindEvent carries an event.
	KindEvent = "event"
	// KindReady is sent once per connection, after the replay of a resume
	// and before live events.
	KindReady = "ready"
	// KindReset says that the events after Reset.LastEventID are lost to
	// this client (aged out, unknown position or too far behind): reload
	// state from the REST API, then keep reading.
	KindReset = "reset"
	// kindHeartbeat moves the position without an event; Next never
	// returns it.
	kindHeartbeat = "heartbeat"
)

// StreamEvent is one thing a stream delivers.
type StreamEvent struct {
	// Kind is KindEvent, KindReady or KindReset.
	Kind string
	// ID is the stream position (the event's sequence); 0 when the server
	// sent none.
	ID uint64
	// Event is set for KindEvent.
	Event *Event
	// Ready is set for KindReady.
	Ready *StreamReady
	// Reset is set for KindReset.
	Reset *StreamReset
}

// StreamReady is the data of the ready control event.
type StreamReady struct {
	// Replayed is how many events were read back for the resume.
	Replayed int `json:"replayed"`
	// Resumed is true when the connection resumed after a last event id.
	Resumed          bool    `json:"resumed"`
	HeartbeatSeconds float64 `json:"heartbeat_seconds"`
}

// StreamReset is the data of the reset control event.
type StreamReset struct {
	// Reason is expired, unknown_position or too_far_behind.
	Reason         string `json:"reason"`
	LastEventID    uint64 `json:"last_event_id"`
	FirstAvailable uint64 `json:"first_available"`
	Message        string `json:"message"`
}

// StreamOptions tune a stream.
type StreamOptions struct {
	// LastEventID resumes after this event id (0: from now on).
	LastEventID uint64
	// StreamToken authenticates with a stream token instead of the
	// client's bearer token.
	StreamToken string
	// MinBackoff and MaxBackoff bound the wait before a reconnect, which
	// doubles after each failed attempt (defaults 250 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout ends a connection that delivered nothing (not even a
	// heartbeat) for this long and reconnects (default: three heartbeat
	// intervals as the server announces them, 45 s before it did).
	IdleTimeout time.Duration
	// OnReconnect, when set, is called with the reason of every
	// reconnect (from the stream's goroutine; keep it short).
	OnReconnect func(err error)
}

func (o StreamOptions) withDefaults() StreamOptions {
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	return o
}

// streamConn is one connection of a stream: SSE or WebSocket.
type streamConn interface {
	// next returns the next thing the server sent (heartbeats included).
	next(idle time.Duration) (StreamEvent, error)
	close()
}

// Stream reads events from the server, reconnecting with backoff and
// resuming after the last id it saw. It is not safe for concurrent Next
// calls; Close may be called from any goroutine.
type Stream struct {
	open   func(ctx context.Context, last uint64) (streamConn, error)
	opts   StreamOptions
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	conn     streamConn
	last     uint64
	failures int
	idle     time.Duration
}

func newStream(ctx context.Context, o StreamOptions, open func(context.Context, uint64) (streamConn, error)) *Stream {
	ctx, cancel := context.WithCancel(ctx)
	o = o.withDefaults()
	idle := o.IdleTimeout
	if idle <= 0 {
		idle = 45 * time.Second
	}
	return &Stream{open: open, opts: o, ctx: ctx, cancel: cancel, last: o.LastEventID, idle: idle}
}

// LastEventID is the position of the stream: the id of the last event,
// control event or heartbeat it read. A new stream with this LastEventID
// continues where this one stopped.
func (s *Stream) LastEventID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Close ends the stream; a Next in progress returns context.Canceled.
func (s *Stream) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	return nil
}

// Next returns the next event, ready or reset, connecting and
// reconnecting as needed. It returns an error only when the stream's
// context ends or the server refuses the stream for good (a 4xx answer
// other than 408 and 429: bad token, unknown channel, …).
func (s *Stream) Next() (StreamEvent, error) {
	for {
		if err := s.ctx.Err(); err != nil {
			return StreamEvent{}, err
		}
		s.mu.Lock()
		conn, last, failures := s.conn, s.last, s.failures
		s.mu.Unlock()
		if conn == nil {
			if failures > 0 && !s.sleep(failures) {
				return StreamEvent{}, s.ctx.Err()
			}
			c, err := s.open(s.ctx, last)
			if err != nil {
				if permanent(err) {
					return StreamEvent{}, err
				}
				s.failed(err)
				continue
			}
			s.mu.Lock()
			if s.ctx.Err() != nil {
				s.mu.Unlock()
				c.close()
				return StreamEvent{}, s.ctx.Err()
			}
			s.conn, conn = c, c
			s.mu.Unlock()
		}
		ev, err := conn.next(s.idle)
		if err != nil {
			s.mu.Lock()
			if s.conn == conn {
				conn.close()
				s.conn = nil
			}
			s.mu.Unlock()
			s.failed(err)
			continue
		}
		s.mu.Lock()
		if ev.ID != 0 {
			s.last = ev.ID
		}
		if ev.Kind == KindReady {
			s.failures = 0
			if s.opts.IdleTimeout <= 0 && ev.Ready != nil && ev.Ready.HeartbeatSeconds > 0 {
				s.idle = time.Duration(3 * ev.Ready.HeartbeatSeconds * float64(time.Second))
			}
		}
		s.mu.Unlock()
		if ev.Kind == kindHeartbeat {
			continue
		}
		return ev, nil
	}
}

func (s *Stream) failed(err error) {
	s.mu.Lock()
	s.failures++
	s.mu.Unlock()
	if s.opts.OnReconnect != nil && s.ctx.Err() == nil {
		s.opts.OnReconnect(err)
	}
}

// sleep waits the backoff of the n-th consecutive failure; false when the
// stream's context ended.
func (s *Stream) sleep(n int) bool {
	d := s.opts.MinBackoff
	for i := 1; i < n && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// permanent reports whether an answer refuses the stream for good.
func permanent(err error) bool {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	return e.Status/100 == 4 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}
