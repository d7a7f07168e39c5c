package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// send stores a text message as the API does and wakes the channel.
func (f *fleet) send(channel, key, text string) string {
	f.t.Helper()
	req := messaging.Request{To: "15550001111", Type: messaging.TypeText, Text: text}
	require.Nil(f.t, req.Validate())
	body, _ := json.Marshal(req)
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: channel, IdempotencyKey: key, Chat: req.To, Type: req.Type, Body: body}
	stored, _, err := f.store.EnqueueMessage(context.Background(), m)
	require.NoError(f.t, err)
	f.command(channel, command.Send, command.Envelope{MessageID: stored.ID})
	return stored.ID
}

func (f *fleet) message(channel, id string) *store.Message {
	m, err := f.store.Message(context.Background(), channel, id)
	require.NoError(f.t, err)
	return m
}

func (f *fleet) deliveries(id string) int64 {
	n, err := sim.Deliveries(context.Background(), f.rdb, f.keys, id)
	require.NoError(f.t, err)
	return n
}

func TestSendGoesQueuedSentDeliveredReadOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("sender")
	id := f.send(ch, "k1", "hello")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "message to be read")
	m := f.message(ch, id)
	require.NotNil(t, m.SentAt)
	require.NotNil(t, m.DeliveredAt)
	require.NotNil(t, m.ReadAt)
	require.Equal(t, sim.WAID(id), m.WAID)
	evs := f.events(ch)
	for _, typ := range []string{event.MessageSent, event.MessageDelivered, event.MessageRead} {
		require.Equal(t, 1, countType(evs, typ), "one %s event", typ)
	}
	require.Equal(t, int64(1), f.deliveries(id))
	// Usage counters are written once a second.
	testenv.Eventually(t, 5*time.Second, func() bool {
		u, err := f.store.UsageDays(context.Background(), ch, 1, time.Now())
		return err == nil && u[0].Sent == 1 && u[0].Read == 1
	}, "usage to count the send and the read")
}

// The same message woken many times, and the same NATS send published
// twice, each reach the phone once.
func TestRedeliveredSendsReachThePhoneOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("dups")
	id := f.send(ch, "dup-key", "once")
	for range 3 {
		f.command(ch, command.Send, command.Envelope{MessageID: id}) // redelivered wake-ups
	}
	again := f.send(ch, "dup-key", "once") // an API retry with the same key
	require.Equal(t, id, again)

	// Straight to NATS with a Nats-Msg-Id, published twice.
	body := []byte(`{"to":"+1 555 000 2222","type":"text","text":"via nats"}`)
	for range 2 {
		msg := &nats.Msg{Subject: f.bus.Names.Cmd(ch, command.Send), Data: body, Header: nats.Header{}}
		msg.Header.Set(names.HeaderMsgID, "app-key-1")
		_, err := f.bus.JS.PublishMsg(context.Background(), msg)
		require.NoError(t, err)
	}
	var natsID string
	testenv.Eventually(t, 10*time.Second, func() bool {
		m, err := f.store.MessageByKey(context.Background(), ch, "app-key-1")
		if err != nil || m.Status != store.StatusRead {
			return false
		}
		natsID = m.ID
		return true
	}, "the NATS-published message to be read")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "message read")
	require.Equal(t, int64(1), f.deliveries(id))
	require.Equal(t, int64(1), f.deliveries(natsID))
	require.Equal(t, "15550002222@s.whatsapp.net", f.message(ch, natsID).Chat)
}

func TestInvalidSendOnNATSIsFailedNotDropped(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("invalid")
	msg := &nats.Msg{Subject: f.bus.Names.Cmd(ch, command.Send), Data: []byte(`{"to":"012","type":"text","text":"x"}`), Header: nats.Header{}}
	_, err := f.bus.JS.PublishMsg(context.Background(), msg)
	require.NoError(t, err)
	var failed event.Envelope
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range f.events(ch) {
			if e.Type == event.MessageFailed {
				failed = e
				return true
			}
		}
		return false
	}, "a message.failed event")
	var data worker.MessageStatus
	require.NoError(t, json.Unmarshal(failed.Data, &data))
	require.Equal(t, "invalid_recipient", data.Code)
	depth, err := f.store.QueueDepth(context.Background(), ch)
	require.NoError(t, err)
	require.Zero(t, depth, "nothing queued")
}

func TestInboundMessagesAreLoggedAndPublishedOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("inbound")
	for range 2 { // the same WhatsApp message delivered twice
		f.sim(ch, sim.ActionInbound, map[string]string{"id": "3AINBOUND1", "from": "15553334444", "text": "hi there"})
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return countType(f.events(ch), event.MessageReceived) == 1 }, "message.received")
	msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{Direction: "inbound"})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "15553334444@s.whatsapp.net", msgs[0].Sender)
	var data map[string]any
	for _, e := range f.events(ch) {
		if e.Type == event.MessageReceived {
			require.NoError(t, json.Unmarshal(e.Data, &data))
		}
	}
	require.Equal(t, msgs[0].ID, data["message_id"])
	require.Equal(t, "hi there", data["text"])
}

// A burst is spread by the rate limit, and the spacing holds when the
// channel moves to another worker mid-burst (the limiter lives in Redis).
// Every message reaches the phone exactly once despite the crash.
func TestRateLimitSpreadsABurstAcrossACrash(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, 800*time.Millisecond)
	rate := config.Rate{N: 20, Per: time.Second} // 50 ms apart, up to 65 ms with jitter
	tune := func(c *worker.Config) { c.SendRate = rate }
	a := f.startWorkerWith("a", tune)
	ch := f.pairedChannel("burst")
	var msgs []string
	for i := range 24 {
		msgs = append(msgs, f.send(ch, fmt.Sprintf("b%d", i), fmt.Sprintf("burst %d", i)))
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, msgs[8]).Status != store.StatusQueued }, "part of the burst to go out")
	a.crash()
	f.startWorkerWith("b", tune)
	testenv.Eventually(t, 20*time.Second, func() bool {
		for _, id := range msgs {
			if f.message(ch, id).SentAt == nil {
				return false
			}
		}
		return true
	}, "the whole burst to be sent")
	var sent []time.Time
	for _, id := range msgs {
		require.Equal(t, int64(1), f.deliveries(id), "message %s delivered once", id)
		sent = append(sent, *f.message(ch, id).SentAt)
	}
	sort.Slice(sent, func(i, j int) bool { return sent[i].Before(sent[j]) })
	// Slots are 50–65 ms apart; a send happens a Postgres round trip after
	// its slot, so single gaps may shrink a little, never the average.
	for i := 1; i < len(sent); i++ {
		gap := sent[i].Sub(sent[i-1])
		require.GreaterOrEqual(t, gap, 25*time.Millisecond, "sends %d and %d only %s apart", i-1, i, gap)
	}
	span := sent[len(sent)-1].Sub(sent[0])
	require.GreaterOrEqual(t, span, time.Duration(len(sent)-1)*50*time.Millisecond, "the burst was not spread")
}

func TestWarmupLowersTheRateOfANewNumber(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorkerWith("w", func(c *worker.Config) {
		c.SendRate = config.Rate{N: 40, Per: time.Second} // 25 ms apart when warm
		c.WarmupDays = 4                                  // day 1: a quarter of it, 100 ms apart
	})
	ch := f.pairedChannel("new-number")
	var msgs []string
	for i := range 4 {
		msgs = append(msgs, f.send(ch, fmt.Sprintf("w%d", i), "warming"))
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, msgs[3]).SentAt != nil }, "all sent")
	first, last := f.message(ch, msgs[0]).SentAt, f.message(ch, msgs[3]).SentAt
	require.GreaterOrEqual(t, last.Sub(*first), 3*95*time.Millisecond, "warming spreads 4 sends over at least 3 intervals of 100 ms")
}

// A send rate changed through the API applies to the running channel at
// once, to the message already waiting for its slot: under the old limit
// (one an hour) it would wait an hour.
func TestChangedSendRateAppliesToTheWaitingMessages(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorkerWith("w", func(c *worker.Config) { c.SendRate = config.Rate{N: 1, Per: time.Hour} })
	ch := f.pairedChannel("slow")
	first := f.send(ch, "s1", "goes at once")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, first).SentAt != nil }, "the first message sent")
	waiting := f.send(ch, "s2", "waits for its slot")
	time.Sleep(300 * time.Millisecond)
	require.Nil(t, f.message(ch, waiting).SentAt, "the next slot is an hour away")

	_, err := f.store.PatchChannel(context.Background(), ch, nil, json.RawMessage(`{"send_rate":"0"}`), nil, nil)
	require.NoError(t, err)
	httpapi.Announce(f.bus.Conn, f.bus.Names.ChannelsChanged(), ch, nil)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, waiting).SentAt != nil }, "the waiting message sent under the new rate")
	third := f.send(ch, "s3", "and the next one")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, third).SentAt != nil }, "the next message sent at once")
}

// A change whose announcement was lost (a NATS disconnection) reaches the
// channel with its next send once the row it holds is older than
// RowMaxAge.
func TestChangedSendRateWithoutAnnouncementAppliesAtTheNextSend(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorkerWith("w", func(c *worker.Config) {
		c.SendRate = config.Rate{N: 1, Per: time.Hour}
		c.RowMaxAge = 200 * time.Millisecond
	})
	ch := f.pairedChannel("unannounced")
	first := f.send(ch, "u1", "goes at once")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, first).SentAt != nil }, "the first message sent")
	waiting := f.send(ch, "u2", "waits for its slot")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, waiting).Status == store.StatusSending }, "the second message claimed, waiting for its slot")
	_, err := f.store.PatchChannel(context.Background(), ch, nil, json.RawMessage(`{"send_rate":"0"}`), nil, nil)
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond)
	require.Nil(t, f.message(ch, waiting).SentAt, "nothing told the worker yet")

	next := f.send(ch, "u3", "brings the change")
	testenv.Eventually(t, 10*time.Second, func() bool {
		return f.message(ch, waiting).SentAt != nil && f.message(ch, next).SentAt != nil
	}, "both sent under the new rate")
}

// A burst to one channel without a send rate goes out in batches: in
// order, each message to the phone once, and each status event once.
func TestABurstIsSentInOrderOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorker("w")
	ch := f.pairedChannel("burst")
	const n = 200
	msgs := make([]string, n)
	for i := range n {
		// Stored without a wake-up each, so that one wake-up finds them all
		// queued and the worker claims several batches.
		req := messaging.Request{To: "15550001111", Type: messaging.TypeText, Text: fmt.Sprintf("burst %d", i)}
		body, _ := json.Marshal(req)
		m := &store.Message{ID: ids.New(ids.Message), ChannelID: ch, Chat: req.To, Type: req.Type, Body: body}
		_, _, err := f.store.EnqueueMessage(context.Background(), m)
		require.NoError(t, err)
		msgs[i] = m.ID
	}
	for range 3 {
		f.command(ch, command.Send, command.Envelope{MessageID: msgs[n-1]})
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		for _, id := range msgs {
			if f.message(ch, id).Status != store.StatusRead {
				return false
			}
		}
		return true
	}, "the whole burst to be read")
	var last time.Time
	for i, id := range msgs {
		require.Equal(t, int64(1), f.deliveries(id), "message %d delivered once", i)
		m := f.message(ch, id)
		require.False(t, m.SentAt.Before(last), "message %d sent before message %d", i, i-1)
		last = *m.SentAt
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return countType(f.events(ch), event.MessageRead) == n }, "every read event")
	sentOrder := map[string][]string{}
	for _, e := range f.events(ch) {
		var d worker.MessageStatus
		require.NoError(t, json.Unmarshal(e.Data, &d))
		if d.MessageID != "" {
			sentOrder[e.Type] = append(sentOrder[e.Type], d.MessageID)
		}
	}
	require.Equal(t, msgs, sentOrder[event.MessageSent], "one message.sent each, in send order")
	for _, typ := range []string{event.MessageDelivered, event.MessageRead} {
		got := append([]string(nil), sentOrder[typ]...)
		sort.Strings(got)
		want := append([]string(nil), msgs...)
		sort.Strings(want)
		require.Equal(t, want, got, "one %s each", typ)
	}
}
