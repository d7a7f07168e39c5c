package worker_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// Point 7 of issue 16: a server-error receipt (WhatsApp's server accepted
// the message, then could not deliver it) fails a sent message with code
// undeliverable; a delivered receipt after it wins (a recipient has the
// message), and a server error about a delivered message changes nothing.
func TestServerErrorReceiptMarksTheMessageFailed(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.simTune = func(c *sim.Config) { c.DeliveredAfter = -1 } // the phone sends no receipts of its own
	f.startWorker("w1")
	ch := f.pairedChannel("server-error")
	id := f.sendTo(ch, "+1 555 010 9999", "hello")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusSent }, "the message to be sent")
	waID := f.message(ch, id).WAID

	f.sim(ch, sim.ActionReceipt, map[string]string{"id": waID, "status": "server_error", "from": "15550109999"})
	failed := f.failedEvent(ch, id)
	require.Equal(t, session.CodeUndeliverable, failed.Code)
	require.Equal(t, store.StatusFailed, failed.Status)
	require.NotEmpty(t, failed.IdempotencyKey)
	m := f.message(ch, id)
	require.Equal(t, store.StatusFailed, m.Status)
	require.NotNil(t, m.SentAt, "it was sent before it failed")
	require.Equal(t, session.CodeUndeliverable, m.Code, "the log keeps the event's code")

	f.sim(ch, sim.ActionReceipt, map[string]string{"id": waID, "status": "delivered", "from": "15550109999"})
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusDelivered }, "a delivered receipt to win")
	require.Empty(t, f.message(ch, id).Code, "delivered after all: no failure code")
	f.sim(ch, sim.ActionReceipt, map[string]string{"id": waID, "status": "server_error", "from": "15550109999"})
	f.sim(ch, sim.ActionReceipt, map[string]string{"id": waID, "status": "read", "from": "15550109999"})
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "the read receipt")
	n := 0
	for _, e := range f.events(ch) {
		if e.Type == event.MessageFailed {
			var d worker.MessageStatus
			require.NoError(t, json.Unmarshal(e.Data, &d))
			if d.MessageID == id {
				n++
			}
		}
	}
	require.Equal(t, 1, n, "a server error about a delivered message changes nothing")
}
