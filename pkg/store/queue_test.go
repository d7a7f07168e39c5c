package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// queueBundle is a store with one channel on shard 0 and its fence.
type queueBundle struct {
	st      *store.Store
	channel string
	fence   store.Fence
}

func setupQueue(t *testing.T) queueBundle {
	t.Helper()
	ctx := context.Background()
	st, _ := testenv.Store(t, 1)
	ch := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: ch, Name: "q", TokenHash: []byte(ch), Shard: 0, Driver: "sim"}))
	epoch, err := st.TakeEpoch(ctx, 0, "w")
	require.NoError(t, err)
	return queueBundle{st: st, channel: ch, fence: store.Fence{Shard: 0, Epoch: epoch, Worker: "w"}}
}

// enqueue stores n messages and returns their ids in queue order.
func (b queueBundle) enqueue(t *testing.T, channel string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		m := &store.Message{ID: ids.New(ids.Message), ChannelID: channel, Chat: "c", Type: "text", Body: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
		_, _, err := b.st.EnqueueMessage(context.Background(), m)
		require.NoError(t, err)
		out = append(out, m.ID)
	}
	return out
}

func (b queueBundle) message(t *testing.T, id string) *store.Message {
	t.Helper()
	m, err := b.st.Message(context.Background(), b.channel, id)
	require.NoError(t, err)
	return m
}

func claimedIDs(c []store.Claimed) []string {
	out := make([]string, len(c))
	for i, m := range c {
		out[i] = m.ID
	}
	return out
}

func TestClaimQueuedTakesTheOldestInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupQueue(t)
	queued := b.enqueue(t, b.channel, 150)

	first, err := b.st.ClaimQueued(ctx, b.fence, b.channel, 64)
	require.NoError(t, err)
	require.Equal(t, queued[:64], claimedIDs(first))
	for _, m := range first {
		require.Equal(t, store.StatusQueued, m.Previous)
		require.Equal(t, store.StatusSending, m.Status)
		require.Equal(t, b.fence.Epoch, m.SendEpoch)
	}

	// Claimed but not sent: claimed again first, as sending.
	again, err := b.st.ClaimQueued(ctx, b.fence, b.channel, 100)
	require.NoError(t, err)
	require.Equal(t, queued[:100], claimedIDs(again))
	for i, m := range again {
		want := store.StatusQueued
		if i < 64 {
			want = store.StatusSending
		}
		require.Equal(t, want, m.Previous, "message %d", i)
	}

	steps := make([]store.Step, 0, len(queued))
	for _, id := range queued {
		steps = append(steps, store.Step{ID: id, WAID: "WA" + id, At: time.Now()})
	}
	_, err = b.st.AdvanceEach(ctx, b.channel, store.StatusSent, store.Failure{}, steps)
	require.NoError(t, err)
	none, err := b.st.ClaimQueued(ctx, b.fence, b.channel, 64)
	require.NoError(t, err)
	require.Empty(t, none, "an empty queue claims nothing")
}

func TestClaimQueuedWithAStaleEpochClaimsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupQueue(t)
	queued := b.enqueue(t, b.channel, 5)
	newer, err := b.st.TakeEpoch(ctx, 0, "other")
	require.NoError(t, err)

	_, err = b.st.ClaimQueued(ctx, b.fence, b.channel, 64)
	require.ErrorIs(t, err, store.ErrStaleEpoch)
	for _, id := range queued {
		require.Equal(t, store.StatusQueued, b.message(t, id).Status, "nothing written")
	}

	// An empty queue under a stale epoch is refused too.
	other := ids.New(ids.Channel)
	require.NoError(t, b.st.CreateChannel(ctx, &store.Channel{ID: other, Name: "o", TokenHash: []byte(other), Shard: 0, Driver: "sim"}))
	_, err = b.st.ClaimQueued(ctx, b.fence, other, 64)
	require.ErrorIs(t, err, store.ErrStaleEpoch)

	claimed, err := b.st.ClaimQueued(ctx, store.Fence{Shard: 0, Epoch: newer, Worker: "other"}, b.channel, 64)
	require.NoError(t, err)
	require.Equal(t, queued, claimedIDs(claimed))
}

func TestAdvanceEachMatchesBothIdsAtTheirOwnTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupQueue(t)
	msgs := b.enqueue(t, b.channel, 4)
	base := time.Now().UTC().Truncate(time.Millisecond)
	var sent []store.Step
	for i, id := range msgs {
		sent = append(sent, store.Step{ID: id, WAID: fmt.Sprintf("3EB0%d", i), At: base.Add(time.Duration(i) * time.Second)})
	}
	changed, err := b.st.AdvanceEach(ctx, b.channel, store.StatusSent, store.Failure{}, sent)
	require.NoError(t, err)
	require.Len(t, changed, 4)
	for i, m := range changed {
		require.Equal(t, msgs[i], m.ID, "in the order of the steps")
		require.Equal(t, sent[i].WAID, m.WAID)
		require.Equal(t, store.StatusSent, m.Status)
		require.True(t, sent[i].At.Equal(*b.message(t, m.ID).SentAt), "sent at its own time")
	}

	// Receipts name messages by either id; duplicates change a message once.
	delivered := []store.Step{
		{ID: "3EB02", At: base.Add(10 * time.Second)},
		{ID: msgs[0], At: base.Add(11 * time.Second)},
		{ID: "3EB00", At: base.Add(12 * time.Second)},
		{ID: "3EB0unknown", At: base},
	}
	changed, err = b.st.AdvanceEach(ctx, b.channel, store.StatusDelivered, store.Failure{}, delivered)
	require.NoError(t, err)
	require.Len(t, changed, 2)
	require.Equal(t, msgs[2], changed[0].ID)
	require.True(t, base.Add(10*time.Second).Equal(*b.message(t, msgs[2]).DeliveredAt))
	require.Equal(t, msgs[0], changed[1].ID)
	require.True(t, base.Add(11*time.Second).Equal(*b.message(t, msgs[0]).DeliveredAt), "the earliest of its receipts")

	// Not a step forward: nothing changes.
	changed, err = b.st.AdvanceEach(ctx, b.channel, store.StatusDelivered, store.Failure{}, delivered[:2])
	require.NoError(t, err)
	require.Empty(t, changed)

	// Another channel's ids are not this channel's messages.
	other := ids.New(ids.Channel)
	require.NoError(t, b.st.CreateChannel(ctx, &store.Channel{ID: other, Name: "o", TokenHash: []byte(other), Shard: 0, Driver: "sim"}))
	changed, err = b.st.AdvanceEach(ctx, other, store.StatusRead, store.Failure{}, []store.Step{{ID: msgs[1], At: base}, {ID: "3EB01", At: base}})
	require.NoError(t, err)
	require.Empty(t, changed)
	require.Equal(t, store.StatusSent, b.message(t, msgs[1]).Status)
}

// AdvanceMany records the steps of several channels in one statement:
// each group gets back only its own messages, in its steps' order, and a
// channel's step never touches another channel's message of the same id.
func TestAdvanceManyKeepsChannelsApart(t *testing.T) {
	ctx := context.Background()
	b := setupQueue(t)
	other := ids.New(ids.Channel)
	require.NoError(t, b.st.CreateChannel(ctx, &store.Channel{ID: other, Name: "o", TokenHash: []byte(other), Shard: 0, Driver: "sim"}))
	mine, theirs := b.enqueue(t, b.channel, 3), b.enqueue(t, other, 2)
	at := time.Now().UTC().Truncate(time.Millisecond)
	// Sent with WhatsApp ids, then delivered by WhatsApp id and by own id.
	sent, err := b.st.AdvanceMany(ctx, store.StatusSent, store.Failure{}, []store.ChannelSteps{
		{ChannelID: b.channel, Steps: []store.Step{{ID: mine[2], WAID: "WA2", At: at}, {ID: mine[0], WAID: "WA0", At: at}, {ID: mine[1], WAID: "WA1", At: at}}},
		{ChannelID: other, Steps: []store.Step{{ID: theirs[0], WAID: "WA0", At: at}, {ID: theirs[1], WAID: "WB1", At: at}}},
	})
	require.NoError(t, err)
	require.Len(t, sent, 2)
	require.Equal(t, []string{mine[2], mine[0], mine[1]}, ids3(sent[0]), "in the order of the group's steps")
	require.Equal(t, []string{theirs[0], theirs[1]}, ids3(sent[1]))

	delivered, err := b.st.AdvanceMany(ctx, store.StatusDelivered, store.Failure{}, []store.ChannelSteps{
		{ChannelID: other, Steps: []store.Step{{ID: "WA0", At: at}}},                                // the same WhatsApp id as a message of b.channel
		{ChannelID: b.channel, Steps: []store.Step{{ID: mine[1], At: at}, {ID: theirs[1], At: at}}}, // another channel's message id
	})
	require.NoError(t, err)
	require.Equal(t, []string{theirs[0]}, ids3(delivered[0]), "WA0 of the other channel only")
	require.Equal(t, []string{mine[1]}, ids3(delivered[1]), "a message of another channel is not advanced")
	require.Equal(t, store.StatusSent, b.message(t, mine[0]).Status)
	require.Equal(t, store.StatusDelivered, b.message(t, mine[1]).Status)
	m, err := b.st.Message(ctx, other, theirs[1])
	require.NoError(t, err)
	require.Equal(t, store.StatusSent, m.Status)
}

func ids3(ms []*store.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// A reconnect loop (error → connecting → error …) keeps two history rows
// whose counts grow, with the latest dial error as detail.
func TestRepeatedTransitionsAreCoalescedInTheHistory(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.Store(t, 1)
	id := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: id, Name: "loop", TokenHash: []byte(id), Shard: 0, Driver: "sim"}))
	epoch, err := st.TakeEpoch(ctx, 0, "w")
	require.NoError(t, err)
	f := store.Fence{Shard: 0, Epoch: epoch, Worker: "w"}
	set := func(from, to, reason, detail string) {
		require.NoError(t, st.SetState(ctx, f, id, store.Transition{From: from, To: to, Reason: reason, Detail: detail, At: time.Now()}))
	}
	set("inactive", "connecting", "start_requested", "")
	for i := range 5 {
		set("connecting", "error", "whatsapp_unreachable", fmt.Sprintf("refused: dial tcp 10.0.0.%d:443: connect: connection refused", i))
		set("error", "connecting", "reconnecting", "")
	}
	h, err := st.History(ctx, id, 0, 10)
	require.NoError(t, err)
	require.Len(t, h, 3, "one row per distinct transition: %+v", h)
	require.Equal(t, "reconnecting", h[0].Reason)
	require.Equal(t, 5, h[0].Count)
	require.Equal(t, "whatsapp_unreachable", h[1].Reason)
	require.Equal(t, 5, h[1].Count)
	require.Equal(t, "refused: dial tcp 10.0.0.4:443: connect: connection refused", h[1].Detail, "the latest dial error")
	require.NotNil(t, h[1].LastAt)
	require.Equal(t, 1, h[2].Count)
	require.Nil(t, h[2].LastAt)

	// A different transition in between starts new rows.
	set("connecting", "active", "connected", "")
	set("active", "disconnected", "connection_closed", "")
	h, err = st.History(ctx, id, 0, 10)
	require.NoError(t, err)
	require.Len(t, h, 5)
}
