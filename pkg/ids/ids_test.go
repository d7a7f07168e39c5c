package ids

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ids made one after the other sort in that order, most of them within
// the same millisecond; made at once, they are all different.
func TestNewSortsInTheOrderMade(t *testing.T) {
	prev := New(Message)
	sameMillisecond := 0
	for range 10_000 {
		id := New(Message)
		require.Less(t, prev, id)
		require.Len(t, id, len(Message)+26)
		if id[:len(Message)+10] == prev[:len(Message)+10] {
			sameMillisecond++
		}
		prev = id
	}
	require.Positive(t, sameMillisecond, "some ids share a millisecond")

	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				id := New(Event)
				mu.Lock()
				require.False(t, seen[id], "duplicate %s", id)
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, 8000)
}

// A clock that steps back does not make an id sort before the last one;
// the time part stays readable.
func TestNextKeepsOrderWhenTheClockStepsBack(t *testing.T) {
	last.Lock()
	ms, r := last.ms, last.rand
	last.Unlock()
	t.Cleanup(func() {
		last.Lock()
		last.ms, last.rand = ms, r
		last.Unlock()
	})
	now := time.Now().Add(time.Hour)
	a := next(now)
	b := next(now.Add(-time.Minute))
	require.Less(t, a, b)
	require.Equal(t, a[:10], b[:10], "the same millisecond as the newest id")
	require.Equal(t, strings.ToLower(a), a)
}

func TestIncrementCarriesAndOverflows(t *testing.T) {
	r := [10]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff}
	require.True(t, increment(&r))
	require.Equal(t, [10]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x00}, r)
	full := [10]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	require.False(t, increment(&full))
	require.Equal(t, [10]byte{}, full)
}
