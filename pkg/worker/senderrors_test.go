package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// sendTo stores a text message to "to" as the API does and wakes the channel.
func (f *fleet) sendTo(channel, to, text string) string {
	f.t.Helper()
	req := messaging.Request{To: to, Type: messaging.TypeText, Text: text}
	require.Nil(f.t, req.Validate())
	body, _ := json.Marshal(req)
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: channel, IdempotencyKey: ids.New("key_"), Chat: req.To, Type: req.Type, Body: body}
	stored, _, err := f.store.EnqueueMessage(context.Background(), m)
	require.NoError(f.t, err)
	f.command(channel, command.Send, command.Envelope{MessageID: stored.ID})
	return stored.ID
}

// failedEvent waits for the message.failed event of message id.
func (f *fleet) failedEvent(channel, id string) worker.MessageStatus {
	f.t.Helper()
	var data worker.MessageStatus
	testenv.Eventually(f.t, 10*time.Second, func() bool {
		for _, e := range f.events(channel) {
			if e.Type != event.MessageFailed {
				continue
			}
			var d worker.MessageStatus
			require.NoError(f.t, json.Unmarshal(e.Data, &d))
			if d.MessageID == id {
				data = d
				return true
			}
		}
		return false
	}, "message.failed of %s", id)
	return data
}

// Point 3 of issue 16: a send to a number that is not on WhatsApp fails
// with not_on_whatsapp and the message queued behind it is sent.
func TestNoJammedQueueNotOnWhatsApp(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("jam")
	bad := f.sendTo(ch, "+15550100000", "to nobody")
	good := f.sendTo(ch, "+15550102222", "to somebody")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, good).Status == store.StatusRead }, "the second message to be read")
	m := f.message(ch, bad)
	require.Equal(t, store.StatusFailed, m.Status)
	require.Contains(t, m.Reason, "not on WhatsApp")
	require.Equal(t, session.CodeNotOnWhatsApp, m.Code, "the log keeps the event's code")
	d := f.failedEvent(ch, bad)
	require.Equal(t, session.CodeNotOnWhatsApp, d.Code)
	require.Equal(t, "15550100000@s.whatsapp.net", d.Chat)
	require.Zero(t, f.deliveries(bad), "nothing reached a phone")
}

// A server error below 500 fails the message at once with
// rejected_by_server; the next message goes.
func TestNoJammedQueueRejectedByServer(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("rejected")
	f.sim(ch, sim.ActionSendFailure, map[string]int{"times": 1, "code": 463})
	// The control reaches the session before the sends: one mailbox.
	first := f.sendTo(ch, "+15550103333", "refused")
	second := f.sendTo(ch, "+15550103333", "accepted")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, second).Status == store.StatusRead }, "the second message to be read")
	d := f.failedEvent(ch, first)
	require.Equal(t, session.CodeRejectedByServer, d.Code)
	require.Contains(t, d.Reason, "463")
	require.Equal(t, session.CodeRejectedByServer, f.message(ch, first).Code)
}

// Errors worth a retry (5xx) are retried with backoff and succeed when the
// server recovers; when they never stop, the message fails after
// SendAttempts with send_retries_exhausted and the queue moves on.
func TestNoJammedQueueTransientErrorsRetryCapped(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorkerWith("w1", func(c *worker.Config) {
		c.SendAttempts, c.SendRetryBase, c.SendRetryMax = 3, 10*time.Millisecond, 40*time.Millisecond
	})
	ch := f.pairedChannel("transient")

	f.sim(ch, sim.ActionSendFailure, map[string]int{"times": 2, "code": 503})
	recovered := f.sendTo(ch, "+15550104444", "after two failures")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, recovered).Status == store.StatusRead }, "the retried message to be read")
	require.Equal(t, int64(1), f.deliveries(recovered))

	f.sim(ch, sim.ActionSendFailure, map[string]int{"times": 3, "code": 500})
	exhausted := f.sendTo(ch, "+15550104444", "never")
	next := f.sendTo(ch, "+15550104444", "next")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, next).Status == store.StatusRead }, "the next message to be read")
	d := f.failedEvent(ch, exhausted)
	require.Equal(t, session.CodeRetriesExhausted, d.Code)
	require.Equal(t, store.StatusFailed, f.message(ch, exhausted).Status)
	require.Equal(t, session.CodeRetriesExhausted, f.message(ch, exhausted).Code)
}
