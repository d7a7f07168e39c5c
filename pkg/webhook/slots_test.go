package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func waitingFor(n int) waiting { return waiting{j: &job{seq: uint64(n)}, at: time.Now()} }

// Slots and queues under one lock: an endpoint's messages are started in
// arrival order by whoever frees one of its slots; expiry and close hand
// back what waits.
func TestEndpointSlotsQueue(t *testing.T) {
	t.Parallel()
	s := newEndpointSlots(2)
	require.Equal(t, admitStarted, s.admit("a", waitingFor(0)))
	require.Equal(t, admitStarted, s.admit("a", waitingFor(1)))
	require.Equal(t, admitStarted, s.admit("b", waitingFor(0)), "another endpoint has its own slots")
	for i := range 10 {
		require.Equal(t, admitQueued, s.admit("a", waitingFor(2+i)))
	}
	require.False(t, s.tryAcquire("a"), "the claimer gets no slot of a busy endpoint")
	require.Len(t, s.queuedMsgs(), 10)

	// Freed slots take the queued messages in order.
	for i := range 3 {
		w, ok := s.next("a")
		require.True(t, ok)
		require.Equal(t, uint64(2+i), w.j.seq)
	}
	// Shedding takes the newest out; a stalled endpoint loses its queue.
	shed := s.shed(2)
	require.Len(t, shed, 2)
	require.Equal(t, uint64(11), shed[1].j.seq)
	require.Empty(t, s.stalled(time.Now().Add(-time.Minute)), "a started one just now")
	require.Len(t, s.stalled(time.Now().Add(time.Minute)), 5)
	require.Equal(t, admitQueued, s.admit("a", waitingFor(99)))
	w, ok := s.next("a")
	require.True(t, ok)
	require.Equal(t, uint64(99), w.j.seq)
	for range 2 {
		_, ok := s.next("a")
		require.False(t, ok, "nothing queued: the slot is released")
	}
	require.True(t, s.tryAcquire("a"))
	ids, free := s.busy()
	require.ElementsMatch(t, []string{"a", "b"}, ids)
	require.Len(t, free, 2)

	require.Equal(t, admitStarted, s.admit("a", waitingFor(0)))
	require.Equal(t, admitQueued, s.admit("a", waitingFor(1)))
	require.Len(t, s.close(), 1)
	require.Equal(t, admitRejected, s.admit("c", waitingFor(0)), "closed")
	_, ok = s.next("a")
	require.False(t, ok)
}

// One endpoint alone may fill the whole queue; with others waiting, each
// gets its share, and past queueTotal nothing more is queued and the pull
// loop sees no room.
func TestEndpointSlotsShares(t *testing.T) {
	t.Parallel()
	s := newEndpointSlots(1)
	require.Equal(t, admitStarted, s.admit("a", waitingFor(0)))
	for range queueTotal - 10 {
		require.Equal(t, admitQueued, s.admit("a", waitingFor(0)))
	}
	require.False(t, s.hasRoom(11))
	require.True(t, s.hasRoom(10))
	require.Equal(t, admitStarted, s.admit("b", waitingFor(0)))
	require.Equal(t, admitQueued, s.admit("b", waitingFor(0)), "b has a share of its own")
	require.Equal(t, admitRejected, s.admit("a", waitingFor(0)), "a holds more than its share now")
	for range 9 {
		require.Equal(t, admitQueued, s.admit("b", waitingFor(0)))
	}
	require.Equal(t, admitRejected, s.admit("b", waitingFor(0)), "the total is reached")
	s.stalled(time.Now().Add(time.Hour))
	require.True(t, s.hasRoom(queueTotal))

	for range queueTotal / 2 {
		for _, id := range []string{"a", "b"} {
			require.Equal(t, admitQueued, s.admit(id, waitingFor(0)))
		}
	}
	for _, id := range []string{"a", "b"} {
		require.Equal(t, admitRejected, s.admit(id, waitingFor(0)), "%s past its half", id)
	}
	require.Equal(t, admitStarted, s.admit("z", waitingFor(0)))
	require.Equal(t, admitRejected, s.admit("z", waitingFor(0)), "total reached")
}
