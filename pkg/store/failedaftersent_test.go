package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/store"
)

// Point 7 of issue 16: how a server-error receipt ranks. It fails a sent
// message, never a delivered one; it is recorded once; a delivered
// receipt after it moves the message on.
func TestServerErrorReceiptFailsSentButNotDelivered(t *testing.T) {
	t.Parallel()
	b := setupQueue(t)
	ctx := context.Background()
	ids := b.enqueue(t, b.channel, 3)
	steps := func(ids ...string) []store.Step {
		out := make([]store.Step, len(ids))
		for i, id := range ids {
			out[i] = store.Step{ID: id, At: time.Now()}
		}
		return out
	}
	_, err := b.st.AdvanceEach(ctx, b.channel, store.StatusSent, store.Failure{}, steps(ids...))
	require.NoError(t, err)
	_, err = b.st.AdvanceEach(ctx, b.channel, store.StatusDelivered, store.Failure{}, steps(ids[1]))
	require.NoError(t, err)

	changed, err := b.st.AdvanceEach(ctx, b.channel, store.StatusFailedAfterSent, store.Failure{Reason: "undeliverable", Code: "undeliverable"}, steps(ids...))
	require.NoError(t, err)
	require.Len(t, changed, 2)
	require.Equal(t, store.StatusFailed, changed[0].Status)
	require.Equal(t, store.StatusFailed, b.message(t, ids[0]).Status)
	require.Equal(t, "undeliverable", b.message(t, ids[0]).Reason)
	require.Equal(t, "undeliverable", b.message(t, ids[0]).Code, "the stable code is stored with the reason")
	require.Equal(t, store.StatusDelivered, b.message(t, ids[1]).Status, "a delivered message stays delivered")
	require.Equal(t, store.StatusFailed, b.message(t, ids[2]).Status)

	changed, err = b.st.AdvanceEach(ctx, b.channel, store.StatusFailedAfterSent, store.Failure{Reason: "undeliverable", Code: "undeliverable"}, steps(ids[0]))
	require.NoError(t, err)
	require.Empty(t, changed, "a second server error changes nothing")

	changed, err = b.st.AdvanceEach(ctx, b.channel, store.StatusDelivered, store.Failure{}, steps(ids[0]))
	require.NoError(t, err)
	require.Len(t, changed, 1)
	require.Equal(t, store.StatusDelivered, b.message(t, ids[0]).Status, "a recipient has it after all")
	require.Empty(t, b.message(t, ids[0]).Reason, "no longer failed: no reason")
	require.Empty(t, b.message(t, ids[0]).Code, "no longer failed: no code")

	_, err = b.st.AdvanceEach(ctx, b.channel, store.StatusFailed, store.Failure{Reason: "send failed", Code: "rejected_by_server"}, steps(ids[2]))
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, b.message(t, ids[2]).Status)
}
