package sessiontest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wagate/wagate/pkg/session"
)

// Recorder is a session.Sink that keeps every event for assertions. It is
// safe for concurrent use; the reading methods are meant for the test's
// goroutine and share one cursor: each event is read once, in order. It
// acknowledges every Inbound it records (session.Inbound.Ack) unless
// HoldAcks is set, when the test acknowledges them itself.
type Recorder struct {
	// HoldAcks leaves inbound messages unacknowledged; set it before the
	// first event.
	HoldAcks bool

	mu      sync.Mutex
	events  []session.Event
	read    int
	arrived chan struct{} // closed and replaced by every Emit
}

var _ session.Sink = (*Recorder)(nil)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{arrived: make(chan struct{})} }

// Emit records ev, then acknowledges it unless HoldAcks.
func (r *Recorder) Emit(ev session.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	close(r.arrived)
	r.arrived = make(chan struct{})
	r.mu.Unlock()
	if in, ok := ev.(session.Inbound); ok && !r.HoldAcks {
		in.Acknowledge(nil)
	}
}

// Events returns every event recorded so far, read or not.
func (r *Recorder) Events() []session.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]session.Event(nil), r.events...)
}

// next returns the next unread event, waiting until the deadline.
func (r *Recorder) next(deadline time.Time) (session.Event, bool) {
	for {
		r.mu.Lock()
		if r.read < len(r.events) {
			ev := r.events[r.read]
			r.read++
			r.mu.Unlock()
			return ev, true
		}
		arrived := r.arrived
		r.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, false
		}
		timer := time.NewTimer(wait)
		select {
		case <-arrived:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// Next returns the next unread event; the test fails if none arrives
// within timeout.
func (r *Recorder) Next(t testing.TB, timeout time.Duration) session.Event {
	t.Helper()
	ev, ok := r.next(time.Now().Add(timeout))
	if !ok {
		t.Fatalf("no event within %s (recorded: %s)", timeout, describe(r.Events()))
	}
	return ev
}

// Quiet fails the test if an unread event is pending or arrives within d.
func (r *Recorder) Quiet(t testing.TB, d time.Duration) {
	t.Helper()
	if ev, ok := r.next(time.Now().Add(d)); ok {
		t.Fatalf("unexpected event %T %+v", ev, ev)
	}
}

// Expect reads the next event and fails the test unless it is a T.
func Expect[T session.Event](t testing.TB, r *Recorder, timeout time.Duration) T {
	t.Helper()
	ev := r.Next(t, timeout)
	got, ok := ev.(T)
	if !ok {
		var want T
		t.Fatalf("got event %T %+v, want %T", ev, ev, want)
	}
	return got
}

// Await reads events until a T and returns it, skipping the others; the
// test fails if no T arrives within timeout.
func Await[T session.Event](t testing.TB, r *Recorder, timeout time.Duration) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev, ok := r.next(deadline)
		if !ok {
			var want T
			t.Fatalf("no %T within %s (recorded: %s)", want, timeout, describe(r.Events()))
		}
		if got, ok := ev.(T); ok {
			return got
		}
	}
}

func describe(evs []session.Event) string {
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = strings.TrimPrefix(fmt.Sprintf("%T", ev), "session.")
		if in, ok := ev.(session.Inbound); ok {
			parts[i] += "(" + in.Type + ")"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
