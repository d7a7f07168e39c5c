package relay

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
)

// frame is one event as every client receives it, encoded once.
type frame struct {
	seq     uint64
	channel string
	// sse is the complete Server-Sent Event, blank line included, named
	// after the event type ("event: message.sent" comes first); the
	// unnamed form, for clients that asked for ?event_names=false, is
	// sse[named:].
	sse   []byte
	named int
	// ws is the WebSocket message {"kind":"event","id":…,"event":…}.
	ws []byte
}

// newFrame encodes an event envelope for both transports. SSE data must be
// one line: JSON with raw line breaks (which wagate never publishes) is
// compacted first. ok is false when data is not JSON at all.
func newFrame(seq uint64, channel string, data []byte) (f frame, ok bool) {
	if bytes.ContainsAny(data, "\r\n") || !json.Valid(data) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			return frame{}, false
		}
		data = buf.Bytes()
	}
	id := strconv.FormatUint(seq, 10)
	typ := eventType(data)
	sse := make([]byte, 0, len(data)+len(id)+len(typ)+24)
	if typ != "" {
		sse = append(sse, "event: "...)
		sse = append(sse, typ...)
		sse = append(sse, '\n')
	}
	named := len(sse)
	sse = append(sse, "id: "...)
	sse = append(sse, id...)
	sse = append(sse, "\ndata: "...)
	sse = append(sse, data...)
	sse = append(sse, "\n\n"...)
	ws := make([]byte, 0, len(data)+len(id)+32)
	ws = append(ws, `{"kind":"event","id":`...)
	ws = append(ws, id...)
	ws = append(ws, `,"event":`...)
	ws = append(ws, data...)
	ws = append(ws, '}')
	return frame{seq: seq, channel: channel, sse: sse, named: named, ws: ws}, true
}

// eventType is the envelope's type when it is a valid SSE event name
// (lower case, digits, dots and underscores), else "".
func eventType(data []byte) string {
	var env struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &env) != nil || env.Type == "" || len(env.Type) > 64 {
		return ""
	}
	for _, r := range env.Type {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '_' {
			return ""
		}
	}
	return env.Type
}

// client is one browser connection as the hub sees it.
type client struct {
	// channel filters the events; "" receives every channel's.
	channel string
	ch      chan frame
	// gone is closed when the hub cut the client off for being slow.
	gone chan struct{}
}

// hub fans events out to clients. publish never blocks: a client whose
// buffer is full is removed and its gone channel closed.
type hub struct {
	mu      sync.Mutex
	byChan  map[string]map[*client]struct{}
	all     map[*client]struct{}
	started bool
	// head is the last sequence fanned out. It is written under mu after
	// the frame went into every buffer, so a reader that loads head and
	// then finds its buffer empty has written every frame up to head.
	head  atomic.Uint64
	ready chan struct{}
	// onDrop is called (under mu) for every client cut off as slow.
	onDrop func(*client)
}

func newHub(onDrop func(*client)) *hub {
	return &hub{
		byChan: map[string]map[*client]struct{}{},
		all:    map[*client]struct{}{},
		ready:  make(chan struct{}),
		onDrop: onDrop,
	}
}

// start sets the head the live subscription begins after and opens the
// hub to clients. Later calls (a restarted Run) only move the head.
func (h *hub) start(head uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if head > h.head.Load() {
		h.head.Store(head)
	}
	if !h.started {
		h.started = true
		close(h.ready)
	}
}

// subscribe registers a client for channel ("" for all) with a buffer of
// size events and returns it with the head at registration: every event
// after head reaches the client's buffer.
func (h *hub) subscribe(channel string, size int) (*client, uint64) {
	c := &client{channel: channel, ch: make(chan frame, size), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if channel == "" {
		h.all[c] = struct{}{}
	} else {
		set := h.byChan[channel]
		if set == nil {
			set = map[*client]struct{}{}
			h.byChan[channel] = set
		}
		set[c] = struct{}{}
	}
	return c, h.head.Load()
}

// unsubscribe removes c; it is safe after the hub dropped c.
func (h *hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func (h *hub) removeLocked(c *client) bool {
	if c.channel == "" {
		if _, ok := h.all[c]; !ok {
			return false
		}
		delete(h.all, c)
		return true
	}
	set := h.byChan[c.channel]
	if _, ok := set[c]; !ok {
		return false
	}
	delete(set, c)
	if len(set) == 0 {
		delete(h.byChan, c.channel)
	}
	return true
}

// publish offers f to every matching client and advances the head.
// Frames at or below the head (a redelivery) are ignored; a frame without
// bytes (an event that could not be encoded) only advances the head.
func (h *hub) publish(f frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.seq <= h.head.Load() {
		return
	}
	if f.sse == nil {
		h.head.Store(f.seq)
		return
	}
	for c := range h.byChan[f.channel] {
		h.offerLocked(c, f)
	}
	for c := range h.all {
		h.offerLocked(c, f)
	}
	h.head.Store(f.seq)
}

func (h *hub) offerLocked(c *client, f frame) {
	select {
	case c.ch <- f:
	default:
		if h.removeLocked(c) {
			close(c.gone)
			if h.onDrop != nil {
				h.onDrop(c)
			}
		}
	}
}

// clients counts the registered clients.
func (h *hub) clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.all)
	for _, set := range h.byChan {
		n += len(set)
	}
	return n
}
