package worker_test

import (
	"context"
	"encoding/json"
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

// Point 2 of issue 16: a worker killed between receiving a message and
// recording it loses nothing. The message was not acknowledged, so the
// next owner's connection gets it again; it is logged and published
// exactly once.
func TestInboundAtLeastOnceWorkerKilledBeforeRecording(t *testing.T) {
	t.Parallel()
	ttl := time.Second
	f := newFleet(t, 1, ttl)
	var reached atomic.Bool
	a := f.startWorkerWith("a", func(c *worker.Config) {
		worker.BeforeInbound(func(string) bool {
			reached.Store(true)
			return false // the process dies here
		})(c)
	})
	ch := f.pairedChannel("killed")
	f.sim(ch, sim.ActionInbound, map[string]string{"id": "3AKILLED1", "from": "15553334444", "text": "do not lose me"})
	testenv.Eventually(t, 10*time.Second, reached.Load, "the message to reach the worker")
	a.crash()
	require.Zero(t, countType(f.events(ch), event.MessageReceived), "nothing was published by the dead worker")

	f.startWorker("b")
	f.waitState(ch, state.Active, 5*ttl+10*time.Second)
	testenv.Eventually(t, 10*time.Second, func() bool {
		return countType(f.events(ch), event.MessageReceived) == 1
	}, "the message to arrive after the restart")
	msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{Direction: "inbound"})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "3AKILLED1", msgs[0].WAID)

	// Acknowledged now: a reconnection delivers nothing again.
	before := f.activations(ch)
	f.sim(ch, sim.ActionDisconnect, map[string]string{})
	testenv.Eventually(t, 10*time.Second, func() bool { return f.activations(ch) > before }, "the channel to reconnect")
	f.sim(ch, sim.ActionInbound, map[string]string{"id": "3AAFTER1", "from": "15553334444", "text": "marker"})
	testenv.Eventually(t, 10*time.Second, func() bool {
		return countType(f.events(ch), event.MessageReceived) == 2
	}, "the marker message")
	msgs, err = f.store.ListMessages(context.Background(), ch, store.MessageFilter{Direction: "inbound"})
	require.NoError(t, err)
	require.Len(t, msgs, 2, "the first message was not delivered a third time")
	require.Equal(t, 2, countType(f.events(ch), event.MessageReceived))
}

// activations counts the channel's changes to active.
func (f *fleet) activations(channel string) int {
	n := 0
	for _, e := range f.events(channel) {
		var d event.StatusChanged
		if e.Type == event.ConnectionStatusChanged && json.Unmarshal(e.Data, &d) == nil && d.To == state.Active {
			n++
		}
	}
	return n
}
