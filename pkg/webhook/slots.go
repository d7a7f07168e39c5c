package webhook

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bounds of the delivery messages held in memory while their endpoint's
// slots are all taken.
const (
	// queueTotal bounds the messages waiting for all endpoints; the pull
	// loop takes nothing more while it is (nearly) reached.
	queueTotal = 4096
	// queueMinShare is the least room of one endpoint's queue. Each
	// endpoint with messages waiting may hold queueTotal divided by their
	// number, at least this: past its share its messages are deferred to
	// Postgres, so that slow endpoints cannot fill the memory and stop the
	// pull for fast ones, while a backlog for one endpoint waits entirely
	// here.
	queueMinShare = 256
	// queuePerSlot raises the least share of an endpoint allowed many
	// attempts in flight: it drains its queue that many times faster, so
	// the same wait in memory is a longer queue (queueMinShare is this for
	// the default 4 slots). It stops at queueMaxShare.
	queuePerSlot = queueMinShare / 4
	// queueMaxShare is the most that the least share grows to: an endpoint
	// never holds more than half the room while others have messages
	// waiting.
	queueMaxShare = queueTotal / 2
	// queueWait is the longest an endpoint may keep messages waiting in
	// memory without starting one of them: a stuck or very slow endpoint
	// leaves them to Postgres, so they hold neither memory nor
	// MaxAckPending.
	queueWait = time.Second
	// queueStall is how long the pull loop waits for room when the queues
	// are full before it moves the newest messages of the longest queue to
	// Postgres: a fast endpoint makes room for a fetch well within it, a
	// slow one must not stop the pull for the others.
	queueStall = 100 * time.Millisecond
)

// waiting is a delivery message held until a slot of its endpoint frees.
type waiting struct {
	m  jetstream.Msg
	j  *job
	at time.Time
}

// Results of endpointSlots.admit.
const (
	admitStarted  = iota // a slot was taken: attempt it now
	admitQueued          // held in memory; a slot's holder starts it
	admitRejected        // no room (or shutting down): defer it elsewhere
)

// endpointSlots counts attempts in flight per endpoint and holds, per
// endpoint, the delivery messages waiting for one of its slots. Both live
// under one lock, so that a message is never queued after the last
// attempt of its endpoint looked at an empty queue. Invariant: an
// endpoint with messages queued has all its slots taken; whoever releases
// a slot first takes the next queued message with it.
//
// Each endpoint has its own limit (its max_in_flight), passed by the
// caller with every acquisition from the endpoint it has just read, so a
// change applies to the next acquisition. When the limit falls below the
// attempts in flight, slots that free are released rather than handed to
// a queued message until the endpoint is back at its limit; when it
// rises, new messages start at once and the claimer sees the free slots.
type endpointSlots struct {
	mu    sync.Mutex
	n     map[string]int
	limit map[string]int       // per endpoint with attempts in flight: its latest limit
	q     map[string][]waiting // FIFO per endpoint; no entry when empty
	held  int                  // messages queued over all endpoints
	// started is, per endpoint with messages queued, when the last of them
	// was started (or the queue began).
	started map[string]time.Time
	closed  bool
}

func newEndpointSlots() *endpointSlots {
	return &endpointSlots{n: map[string]int{}, limit: map[string]int{}, q: map[string][]waiting{}, started: map[string]time.Time{}}
}

// take takes a slot of id if fewer than limit are taken.
func (s *endpointSlots) take(id string, limit int) bool {
	s.limit[id] = limit
	if s.n[id] >= limit {
		return false
	}
	s.n[id]++
	return true
}

// tryAcquire takes a slot of id, which allows limit attempts in flight.
func (s *endpointSlots) tryAcquire(id string, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.take(id, limit)
}

// share is the room of the queue of an endpoint allowed limit attempts in
// flight while active endpoints have messages queued.
func share(limit, active int) int {
	return max(min(queueMaxShare, max(queueMinShare, queuePerSlot*limit)), queueTotal/active)
}

// admit takes a slot of id, which allows limit attempts in flight, for w,
// or queues w behind the endpoint's attempts in flight when its share of
// the queue has room.
func (s *endpointSlots) admit(id string, limit int, w waiting) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return admitRejected
	}
	if s.take(id, limit) {
		return admitStarted
	}
	q := s.q[id]
	active := len(s.q)
	if q == nil {
		active++
	}
	if s.held >= queueTotal || len(q) >= share(limit, active) {
		return admitRejected
	}
	if q == nil {
		s.started[id] = time.Now()
	}
	s.q[id] = append(q, w)
	s.held++
	return admitQueued
}

// next hands the slot of id that its holder is done with to the next
// message queued for id; when none waits, or when id has more attempts in
// flight than limit (lowered meanwhile), it releases the slot.
func (s *endpointSlots) next(id string, limit int) (waiting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit[id] = limit
	if q := s.q[id]; len(q) > 0 && !s.closed && s.n[id] <= limit {
		w := q[0]
		q[0] = waiting{}
		if len(q) == 1 {
			s.drop(id)
		} else {
			s.q[id] = q[1:]
			s.started[id] = time.Now()
		}
		s.held--
		return w, true
	}
	s.release(id)
	return waiting{}, false
}

func (s *endpointSlots) release(id string) {
	if s.n[id]--; s.n[id] <= 0 {
		delete(s.n, id)
		delete(s.limit, id)
	}
}

// isClosed reports whether close was called.
func (s *endpointSlots) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *endpointSlots) drop(id string) {
	delete(s.q, id)
	delete(s.started, id)
}

// stalled removes the messages of the endpoints that started none of
// their queued messages since t.
func (s *endpointSlots) stalled(t time.Time) []waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []waiting
	for id, q := range s.q {
		if s.started[id].Before(t) {
			out = append(out, q...)
			s.held -= len(q)
			s.drop(id)
		}
	}
	return out
}

// shed removes up to n of the newest messages of the longest queue.
func (s *endpointSlots) shed(n int) []waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	longest := ""
	for id, q := range s.q {
		if len(q) > len(s.q[longest]) {
			longest = id
		}
	}
	q := s.q[longest]
	n = min(n, len(q))
	if n == 0 {
		return nil
	}
	out := append([]waiting(nil), q[len(q)-n:]...)
	clear(q[len(q)-n:])
	if n == len(q) {
		s.drop(longest)
	} else {
		s.q[longest] = q[:len(q)-n]
	}
	s.held -= n
	return out
}

// close refuses admissions from now on and returns what was queued.
func (s *endpointSlots) close() []waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var out []waiting
	for _, q := range s.q {
		out = append(out, q...)
	}
	s.q = map[string][]waiting{}
	s.started = map[string]time.Time{}
	s.held = 0
	return out
}

// hasRoom reports whether n more messages may be queued.
func (s *endpointSlots) hasRoom(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held+n <= queueTotal
}

// queuedMsgs lists the messages queued, for the heartbeat.
func (s *endpointSlots) queuedMsgs() []jetstream.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]jetstream.Msg, 0, s.held)
	for _, q := range s.q {
		for _, w := range q {
			out = append(out, w.m)
		}
	}
	return out
}

// busy lists the endpoints with attempts in flight and their free slots.
func (s *endpointSlots) busy() ([]string, []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idList := make([]string, 0, len(s.n))
	free := make([]int32, 0, len(s.n))
	for id, n := range s.n {
		idList = append(idList, id)
		free = append(free, int32(max(0, s.limit[id]-n)))
	}
	return idList, free
}
