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
	s := newEndpointSlots()
	require.Equal(t, admitStarted, s.admit("a", 2, waitingFor(0)))
	require.Equal(t, admitStarted, s.admit("a", 2, waitingFor(1)))
	require.Equal(t, admitStarted, s.admit("b", 2, waitingFor(0)), "another endpoint has its own slots")
	for i := range 10 {
		require.Equal(t, admitQueued, s.admit("a", 2, waitingFor(2+i)))
	}
	require.False(t, s.tryAcquire("a", 2), "the claimer gets no slot of a busy endpoint")
	require.Len(t, s.queuedMsgs(), 10)

	// Freed slots take the queued messages in order.
	for i := range 3 {
		w, ok := s.next("a", 2)
		require.True(t, ok)
		require.Equal(t, uint64(2+i), w.j.seq)
	}
	// Shedding takes the newest out; a stalled endpoint loses its queue.
	shed := s.shed(2)
	require.Len(t, shed, 2)
	require.Equal(t, uint64(11), shed[1].j.seq)
	require.Empty(t, s.stalled(time.Now().Add(-time.Minute)), "a started one just now")
	require.Len(t, s.stalled(time.Now().Add(time.Minute)), 5)
	require.Equal(t, admitQueued, s.admit("a", 2, waitingFor(99)))
	w, ok := s.next("a", 2)
	require.True(t, ok)
	require.Equal(t, uint64(99), w.j.seq)
	for range 2 {
		_, ok := s.next("a", 2)
		require.False(t, ok, "nothing queued: the slot is released")
	}
	require.True(t, s.tryAcquire("a", 2))
	ids, free := s.busy()
	require.ElementsMatch(t, []string{"a", "b"}, ids)
	require.Len(t, free, 2)

	require.Equal(t, admitStarted, s.admit("a", 2, waitingFor(0)))
	require.Equal(t, admitQueued, s.admit("a", 2, waitingFor(1)))
	require.Len(t, s.close(), 1)
	require.Equal(t, admitRejected, s.admit("c", 2, waitingFor(0)), "closed")
	_, ok = s.next("a", 2)
	require.False(t, ok)
}

// One endpoint alone may fill the whole queue; with others waiting, each
// gets its share, and past queueTotal nothing more is queued and the pull
// loop sees no room.
func TestEndpointSlotsShares(t *testing.T) {
	t.Parallel()
	s := newEndpointSlots()
	require.Equal(t, admitStarted, s.admit("a", 1, waitingFor(0)))
	for range queueTotal - 10 {
		require.Equal(t, admitQueued, s.admit("a", 1, waitingFor(0)))
	}
	require.False(t, s.hasRoom(11))
	require.True(t, s.hasRoom(10))
	require.Equal(t, admitStarted, s.admit("b", 1, waitingFor(0)))
	require.Equal(t, admitQueued, s.admit("b", 1, waitingFor(0)), "b has a share of its own")
	require.Equal(t, admitRejected, s.admit("a", 1, waitingFor(0)), "a holds more than its share now")
	for range 9 {
		require.Equal(t, admitQueued, s.admit("b", 1, waitingFor(0)))
	}
	require.Equal(t, admitRejected, s.admit("b", 1, waitingFor(0)), "the total is reached")
	s.stalled(time.Now().Add(time.Hour))
	require.True(t, s.hasRoom(queueTotal))

	for range queueTotal / 2 {
		for _, id := range []string{"a", "b"} {
			require.Equal(t, admitQueued, s.admit(id, 1, waitingFor(0)))
		}
	}
	for _, id := range []string{"a", "b"} {
		require.Equal(t, admitRejected, s.admit(id, 1, waitingFor(0)), "%s past its half", id)
	}
	require.Equal(t, admitStarted, s.admit("z", 1, waitingFor(0)))
	require.Equal(t, admitRejected, s.admit("z", 1, waitingFor(0)), "total reached")
}

// Each endpoint has its own limit, given with every acquisition: a lower
// one releases the slots that free until the endpoint is back at it, a
// higher one starts new messages at once and shows in the free slots.
func TestEndpointSlotsPerEndpointLimit(t *testing.T) {
	t.Parallel()
	s := newEndpointSlots()
	require.Equal(t, admitStarted, s.admit("one", 1, waitingFor(0)))
	require.Equal(t, admitQueued, s.admit("one", 1, waitingFor(1)), "max_in_flight 1: the second waits")
	require.False(t, s.tryAcquire("one", 1))
	for i := range 16 {
		require.Equal(t, admitStarted, s.admit("wide", 16, waitingFor(i)), "slot %d of 16", i)
	}
	require.Equal(t, admitQueued, s.admit("wide", 16, waitingFor(16)))
	idList, free := s.busy()
	require.ElementsMatch(t, []string{"one", "wide"}, idList)
	require.Equal(t, []int32{0, 0}, free)

	// Lowered to 2 while 16 are in flight: the first 14 slots to free are
	// released, the 15th takes the queued message.
	for i := range 14 {
		_, ok := s.next("wide", 2)
		require.False(t, ok, "slot %d released: still over the new limit", i)
	}
	w, ok := s.next("wide", 2)
	require.True(t, ok, "back at the limit: the slot goes to the queued message")
	require.Equal(t, uint64(16), w.j.seq)
	require.Equal(t, admitQueued, s.admit("wide", 2, waitingFor(17)))

	// Raised: a new message starts at once, and the claimer sees room.
	require.Equal(t, admitStarted, s.admit("one", 3, waitingFor(2)))
	idList, free = s.busy()
	for i, id := range idList {
		if id == "one" {
			require.Equal(t, int32(1), free[i], "3 allowed, 2 in flight")
		}
	}
}

// The least share of an endpoint's queue grows with its limit, up to half
// the room.
func TestEndpointSlotsShareScalesWithLimit(t *testing.T) {
	t.Parallel()
	require.Equal(t, queueMinShare, share(1, 16))
	require.Equal(t, queueMinShare, share(DefaultEndpointConcurrency, 16))
	require.Equal(t, 16*queuePerSlot, share(16, 16))
	require.Equal(t, queueMaxShare, share(MaxInFlightLimit, 16))
	require.Equal(t, queueTotal, share(1, 1), "alone, an endpoint may fill the queue")

	// Seven slow endpoints with messages waiting: the fair share of eight
	// is queueTotal/8, less than what 16 slots earn.
	s := newEndpointSlots()
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"} {
		require.Equal(t, admitStarted, s.admit(id, 1, waitingFor(0)))
		require.Equal(t, admitQueued, s.admit(id, 1, waitingFor(0)))
	}
	for range 16 {
		require.Equal(t, admitStarted, s.admit("wide", 16, waitingFor(0)))
	}
	for range 16 * queuePerSlot {
		require.Equal(t, admitQueued, s.admit("wide", 16, waitingFor(0)))
	}
	require.Equal(t, admitRejected, s.admit("wide", 16, waitingFor(0)), "past its share")
}
