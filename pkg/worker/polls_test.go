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
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// sendPoll queues a poll as the API does and returns its message id.
func (f *fleet) sendPoll(channel, to string, options ...string) string {
	f.t.Helper()
	req := messaging.Request{To: to, Type: messaging.TypePoll, Poll: &messaging.Poll{Name: "When do we meet?", Options: options, Selectable: len(options)}}
	require.Nil(f.t, req.Validate())
	body, _ := json.Marshal(req)
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: channel, IdempotencyKey: ids.New("key_"), Chat: req.To, Type: req.Type, Body: body}
	stored, _, err := f.store.EnqueueMessage(context.Background(), m)
	require.NoError(f.t, err)
	f.command(channel, command.Send, command.Envelope{MessageID: stored.ID})
	return stored.ID
}

// Point 5 of issue 16 through the fleet: a contact votes in a poll the
// channel sent; message.poll_vote names the options chosen, and a vote for
// an option the poll does not have is refused as WhatsApp's apps cannot
// cast it.
func TestPollVotesThroughTheFleet(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("polls")
	id := f.sendPoll(ch, "+1 555 010 7777", "Monday", "Tuesday", "Wednesday")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).WAID != "" }, "the poll to be sent")
	waID := f.message(ch, id).WAID

	f.sim(ch, sim.ActionVote, map[string]any{"from": "15550107777", "id": waID, "options": []string{"Tuesday", "Wednesday"}})
	var vote map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range f.events(ch) {
			if e.Type == event.MessagePollVote {
				require.NoError(t, json.Unmarshal(e.Data, &vote))
				return true
			}
		}
		return false
	}, "the vote")
	require.Equal(t, waID, vote["message_id"])
	require.Equal(t, []any{"Tuesday", "Wednesday"}, vote["selected"])
	require.Equal(t, "15550107777@s.whatsapp.net", vote["from"])

	// An option the poll does not have: refused, no event.
	f.sim(ch, sim.ActionVote, map[string]any{"from": "15550107777", "id": waID, "options": []string{"Sunday"}})
	testenv.Eventually(t, 10*time.Second, func() bool { return countType(f.events(ch), event.CommandFailed) == 1 }, "the refused vote")
	require.Equal(t, 1, countType(f.events(ch), event.MessagePollVote))
}

// Point 4 of issue 16 through the fleet: the message as sent is recorded
// with it, so that after a failover the new owner answers a recipient's
// retry receipt with it instead of leaving "Waiting for this message".
func TestRetryReceiptAfterFailoverGetsTheMessage(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	w1 := f.startWorker("w1")
	ch := f.pairedChannel("retries")
	id := f.sendTo(ch, "+1 555 010 8888", "please decrypt me")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).WAID != "" }, "the message to be sent")
	waID := f.message(ch, id).WAID
	payload, err := f.store.SentPayload(context.Background(), ch, waID)
	require.NoError(t, err)
	require.NotEmpty(t, payload, "the message as sent is in the log")

	w1.crash()
	f.startWorker("w2")
	testenv.Eventually(t, 15*time.Second, func() bool {
		n, _ := f.rdb.HGet(context.Background(), f.keys.SimPhone(ch), "resent").Int()
		if n >= 1 {
			return true
		}
		if f.state(ch) == "active" {
			f.sim(ch, sim.ActionRetryReceipt, map[string]any{"id": waID})
		}
		time.Sleep(200 * time.Millisecond)
		return false
	}, "the new owner to resend the message from the log")
}
