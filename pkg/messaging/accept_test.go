package messaging

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// A batch naming a channel that is gone fails as a whole in Postgres;
// the writer then stores the others one by one, so only the gone
// channel's send fails, and wakes each live channel once per batch.
func TestAcceptBatchWithAGoneChannel(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.Store(t, 4)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, 4)
	live := &store.Channel{ID: ids.New(ids.Channel), Name: "live", TokenHash: []byte("h"), Shard: 1, Driver: "sim"}
	require.NoError(t, st.CreateChannel(ctx, live))

	a := newAcceptor(st, b, slog.Default())
	msg := func(channel, key string) *store.Message {
		return &store.Message{ID: ids.New(ids.Message), ChannelID: channel, IdempotencyKey: key, RequestHash: []byte("x"),
			Chat: "15550102030", Type: "text", Body: []byte(`{"to":"15550102030","type":"text","text":"hi"}`)}
	}
	batch := []acceptReq{
		{m: msg(live.ID, "")},
		{m: msg("ch_gone", "")},
		{m: msg(live.ID, "k1")},
		{m: msg(live.ID, "k1")}, // the same key twice in one batch
	}
	for i := range batch {
		batch[i].done = make(chan acceptResult, 1)
	}
	a.flush(batch)
	got := make([]acceptResult, len(batch))
	for i := range batch {
		got[i] = <-batch[i].done
	}
	require.NoError(t, got[0].err)
	require.False(t, got[0].createdAt.IsZero())
	require.ErrorIs(t, got[1].err, store.ErrNotFound)
	require.NoError(t, got[2].err)
	require.False(t, got[2].createdAt.IsZero(), "the first send of k1 is stored")
	require.NoError(t, got[3].err)
	require.True(t, got[3].createdAt.IsZero(), "the second send of k1 is not: the caller answers a replay")

	// Without the gone channel, one statement stores the batch.
	batch = []acceptReq{{m: msg(live.ID, "")}, {m: msg(live.ID, "k1")}, {m: msg(live.ID, "k2")}}
	for i := range batch {
		batch[i].done = make(chan acceptResult, 1)
	}
	a.flush(batch)
	require.False(t, (<-batch[0].done).createdAt.IsZero())
	require.True(t, (<-batch[1].done).createdAt.IsZero(), "k1 was used by the earlier batch")
	require.False(t, (<-batch[2].done).createdAt.IsZero())

	var n int
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE channel_id = $1`, live.ID).Scan(&n))
	require.Equal(t, 4, n)

	// Wake-ups: one per message written alone, one per channel and batch.
	info, err := b.JS.Stream(ctx, b.Names.CmdStream())
	require.NoError(t, err)
	// Wake-ups are published without the requests waiting for them.
	var si *jetstream.StreamInfo
	testenv.Eventually(t, 5*time.Second, func() bool {
		si, err = info.Info(ctx)
		require.NoError(t, err)
		return si.State.Msgs == 3
	}, "three wake-ups in WA_CMD")
	var wakes []string
	for seq := si.State.FirstSeq; seq <= si.State.LastSeq; seq++ {
		m, err := info.GetMsg(ctx, seq)
		require.NoError(t, err)
		require.Contains(t, m.Subject, live.ID)
		wakes = append(wakes, m.Header.Get(names.HeaderMsgID))
	}
	require.Len(t, wakes, 3, "two sends stored one by one, then one wake-up for the second batch: %v", wakes)
	require.Equal(t, batch[2].m.ID, wakes[2], "a batch's wake-up names the channel's last message")
}

// One tenant's bad row never fails another's send: rows the database
// refuses (here a body with U+0000, which validation keeps out of the
// API) sent concurrently with good ones of another channel fail alone,
// the batch being retried row by row.
func TestAcceptBatchWithABadRowFailsOnlyThatSend(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.Store(t, 4)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, 4)
	good := &store.Channel{ID: ids.New(ids.Channel), Name: "good", TokenHash: []byte("g"), Shard: 1, Driver: "sim"}
	bad := &store.Channel{ID: ids.New(ids.Channel), Name: "bad", TokenHash: []byte("b"), Shard: 2, Driver: "sim"}
	require.NoError(t, st.CreateChannel(ctx, good))
	require.NoError(t, st.CreateChannel(ctx, bad))
	a := newAcceptor(st, b, slog.Default())

	const n = 150
	type outcome struct {
		bad bool
		err error
	}
	results := make(chan outcome, 2*n)
	for i := range 2 * n {
		isBad := i%2 == 0
		go func() {
			m := &store.Message{ID: ids.New(ids.Message), ChannelID: good.ID, RequestHash: []byte("x"),
				Chat: "15550102030", Type: "text", Body: []byte(`{"to":"15550102030","type":"text","text":"hi"}`)}
			if isBad {
				m.ChannelID = bad.ID
				m.Body = []byte(`{"to":"15550102030","type":"text","text":"nul \u0000"}`)
			}
			_, err := a.enqueue(ctx, m)
			results <- outcome{bad: isBad, err: err}
		}()
	}
	failed := 0
	for range 2 * n {
		r := <-results
		if r.bad {
			require.Error(t, r.err)
			failed++
			continue
		}
		require.NoError(t, r.err, "a good send failed because of another's bad row")
	}
	require.Equal(t, n, failed)
	var stored int
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE channel_id = $1`, good.ID).Scan(&stored))
	require.Equal(t, n, stored)
}
