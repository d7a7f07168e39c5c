package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// The chaos suite's "short of read": the worker holding a channel is
// killed after its message was delivered and before the read receipt is
// due. The receipt waits for the device's next connection, which the
// worker taking the shard over makes: the message reaches read, and each
// status is announced once.
func TestReceiptDueWhileWorkerDeadArrivesAfterTakeover(t *testing.T) {
	t.Parallel()
	ttl := time.Second
	f := newFleet(t, 1, ttl)
	f.simTune = func(c *sim.Config) { c.ReadAfter = 500 * time.Second } // 5 s at the tests' scale
	a := f.startWorker("a")
	ch := f.pairedChannel("killed-before-read")
	id := f.send(ch, "k1", "read me later")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusDelivered }, "the message to be delivered")
	a.crash()
	require.Equal(t, store.StatusDelivered, f.message(ch, id).Status, "the read receipt was not due yet")

	f.startWorker("b")
	f.waitState(ch, state.Active, 5*ttl+10*time.Second)
	testenv.Eventually(t, 30*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "the message to be read after the takeover")
	requireAnnouncedOnce(t, f, ch)
	requireNoPendingReceipts(t, f, ch)
}

// The worker is killed after receipts reached it and before it recorded
// them: they were not acknowledged, so the next owner's connection gets
// them again and records them.
func TestReceiptsNotRecordedBeforeCrashComeAgain(t *testing.T) {
	t.Parallel()
	ttl := time.Second
	f := newFleet(t, 1, ttl)
	var reached, dead atomic.Bool
	a := f.startWorkerWith("a", worker.BeforeReceipts(func(string) bool {
		if dead.Load() {
			reached.Store(true)
			return false // the process dies here
		}
		return true
	}))
	ch := f.pairedChannel("killed-before-recording")
	dead.Store(true)
	id := f.send(ch, "k1", "do not lose my receipts")
	testenv.Eventually(t, 10*time.Second, reached.Load, "the receipts to reach the worker")
	a.crash()
	require.Equal(t, store.StatusSent, f.message(ch, id).Status, "the dead worker recorded no receipt")

	f.startWorker("b")
	f.waitState(ch, state.Active, 5*ttl+10*time.Second)
	testenv.Eventually(t, 30*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "the message to be read after the takeover")
	m := f.message(ch, id)
	require.NotNil(t, m.DeliveredAt)
	requireAnnouncedOnce(t, f, ch)
	requireNoPendingReceipts(t, f, ch)

	// Acknowledged now: a reconnection delivers no receipt again.
	before := f.activations(ch)
	f.sim(ch, sim.ActionDisconnect, map[string]string{})
	testenv.Eventually(t, 10*time.Second, func() bool { return f.activations(ch) > before }, "the channel to reconnect")
	id2 := f.send(ch, "k2", "marker")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id2).Status == store.StatusRead }, "the marker to be read")
	evs := f.events(ch)
	require.Equal(t, 2, countType(evs, event.MessageDelivered))
	require.Equal(t, 2, countType(evs, event.MessageRead))
}

// requireAnnouncedOnce: every status of the channel's messages was
// announced once, however often its receipt came.
func requireAnnouncedOnce(t *testing.T, f *fleet, ch string) {
	t.Helper()
	evs := f.events(ch)
	require.Equal(t, 1, countType(evs, event.MessageSent))
	require.Equal(t, 1, countType(evs, event.MessageDelivered))
	require.Equal(t, 1, countType(evs, event.MessageRead))
}

// requireNoPendingReceipts: the simulated WhatsApp holds no receipt the
// worker did not acknowledge.
func requireNoPendingReceipts(t *testing.T, f *fleet, ch string) {
	t.Helper()
	c, err := f.store.ChannelAny(context.Background(), ch)
	require.NoError(t, err)
	testenv.Eventually(t, 10*time.Second, func() bool {
		n, err := sim.PendingReceipts(context.Background(), f.rdb, f.keys, c.JID)
		return err == nil && n == 0
	}, "every receipt to be acknowledged")
}
