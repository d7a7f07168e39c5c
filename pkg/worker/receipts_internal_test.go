package worker

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
)

func receipt(typ string, ids ...string) session.Inbound {
	return session.Inbound{Type: typ, MessageIDs: ids}
}

// newQueueOnly is a channel whose mailbox is never drained, so tests can
// look at what was queued.
func newQueueOnly() *channelRun {
	return &channelRun{sr: &shardRun{ctx: context.Background()}, running: true}
}

// queued describes the queue: the message ids of each receipt job, or the
// type of any other job.
func (c *channelRun) queued() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]string
	for _, j := range c.queue {
		if len(j.receipts) == 0 {
			out = append(out, []string{"other"})
			continue
		}
		var ids []string
		for _, r := range j.receipts {
			ids = append(ids, r.MessageIDs...)
		}
		out = append(out, ids)
	}
	return out
}

func TestReceiptsAreHeldAndQueuedTogether(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		events func(c *channelRun)
		want   [][]string
	}{
		{
			name: "another event of the session queues the held receipts first",
			events: func(c *channelRun) {
				c.fromSession(1, receipt(event.MessageDelivered, "a"))
				c.fromSession(1, receipt(event.MessageRead, "b", "c"))
				c.fromSession(1, session.Connected{})
				c.fromSession(1, receipt(event.MessageRead, "d"))
			},
			want: [][]string{{"a", "b", "c"}, {"other"}},
		},
		{
			name: "receipts of a replaced session are held with the new one's",
			events: func(c *channelRun) {
				c.fromSession(1, receipt(event.MessageRead, "a"))
				c.fromSession(2, receipt(event.MessageRead, "b"))
				c.fromSession(2, session.Disconnected{})
			},
			want: [][]string{{"a", "b"}, {"other"}},
		},
		{
			name: "a receipt without ids is an ordinary event",
			events: func(c *channelRun) {
				c.fromSession(1, receipt(event.MessageRead, "a"))
				c.fromSession(1, receipt(event.MessageRead))
			},
			want: [][]string{{"a"}, {"other"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newQueueOnly()
			tt.events(c)
			require.Equal(t, tt.want, c.queued())
		})
	}
}

func TestHeldReceiptsAreQueuedAfterTheWindow(t *testing.T) {
	t.Parallel()
	c := newQueueOnly()
	c.fromSession(1, receipt(event.MessageDelivered, "a"))
	c.fromSession(1, receipt(event.MessageDelivered, "b"))
	require.Empty(t, c.queued(), "held")
	require.Eventually(t, func() bool { return len(c.queued()) == 1 }, time.Second, time.Millisecond)
	require.Equal(t, [][]string{{"a", "b"}}, c.queued())
}

func TestAFullHoldIsQueuedAtOnce(t *testing.T) {
	t.Parallel()
	c := newQueueOnly()
	for range maxCoalesced {
		c.fromSession(1, receipt(event.MessageRead, "x"))
	}
	require.Len(t, c.queued(), 1)
	require.Len(t, c.queued()[0], maxCoalesced)
}

// drain merges receipt jobs waiting next to each other.
func TestDrainCoalescesAdjacentReceiptJobs(t *testing.T) {
	t.Parallel()
	c := newQueueOnly()
	c.queue = []job{
		{receipts: []session.Inbound{receipt(event.MessageDelivered, "a")}, gen: 1},
		{receipts: []session.Inbound{receipt(event.MessageRead, "b", "c")}, gen: 1},
		{ev: session.Connected{}, gen: 1},
		{receipts: []session.Inbound{receipt(event.MessageRead, "d")}, gen: 1},
		{receipts: []session.Inbound{receipt(event.MessageRead, "e")}, gen: 2},
	}
	var got [][]string
	for len(c.queue) > 0 {
		j := c.pop()
		if len(j.receipts) == 0 {
			got = append(got, []string{"other"})
			continue
		}
		j = c.coalesceReceipts(j)
		var ids []string
		for _, r := range j.receipts {
			ids = append(ids, r.MessageIDs...)
		}
		got = append(got, ids)
	}
	require.Equal(t, [][]string{{"a", "b", "c"}, {"other"}, {"d", "e"}}, got)
}
