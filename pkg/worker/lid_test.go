package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// Point 1 of issue 16 through the fleet: a contact WhatsApp addresses by
// LID replies to a message we sent to its number; the reply's event
// carries the number and the LID, and both messages are one conversation
// whichever form ?chat= names.
func TestPhoneNumbersNextToLIDsOneConversation(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("lid")
	const pn = "15550105555@s.whatsapp.net"
	lid := sim.LID(pn)

	sent := f.sendTo(ch, "+1 555 010 5555", "hello")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, sent).Status == store.StatusRead }, "the send to be read")
	f.sim(ch, sim.ActionInbound, map[string]string{"id": "3ALIDREPLY", "from": "15550105555", "text": "hi back", "addressing": "lid"})

	var data map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range f.events(ch) {
			if e.Type == event.MessageReceived {
				require.NoError(t, json.Unmarshal(e.Data, &data))
				return true
			}
		}
		return false
	}, "the reply")
	require.Equal(t, pn, data["chat"])
	require.Equal(t, lid, data["chat_lid"])
	require.Equal(t, pn, data["from"])
	require.Equal(t, lid, data["from_lid"])
	require.Equal(t, "lid", data["addressing_mode"])

	for _, filter := range []string{pn, lid} {
		msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{Chat: filter})
		require.NoError(t, err)
		require.Len(t, msgs, 2, "?chat=%s lists the send and the reply", filter)
		require.Equal(t, lid, msgs[0].ChatLID)
		require.Equal(t, lid, msgs[0].SenderLID)
		require.Equal(t, pn, msgs[0].Chat)
		require.Equal(t, sent, msgs[1].ID)
	}

	// The contact stays LID-addressed: its reactions carry the LID too.
	f.sim(ch, sim.ActionReaction, map[string]string{"from": "15550105555", "id": "3EB0X", "emoji": "👍"})
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range f.events(ch) {
			if e.Type == event.MessageReaction {
				var r map[string]any
				require.NoError(t, json.Unmarshal(e.Data, &r))
				return r["from_lid"] == lid && r["from"] == pn
			}
		}
		return false
	}, "a reaction carrying the LID")
}

// A conversation whose first message arrived under a LID whose number was
// unknown, then under the number: ?chat= with the LID finds both.
func TestPhoneNumbersNextToLIDsLIDOnlyRows(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	ctx := context.Background()
	ch := f.createChannel("lid-only")
	const pn = "15550106666@s.whatsapp.net"
	lid := sim.LID(pn)
	for _, m := range []*store.Message{
		{ID: "msg_0000000000000000000000000a", ChannelID: ch, Chat: lid, ChatLID: lid, Sender: lid, SenderLID: lid, Type: "text", Body: []byte(`{}`), WAID: "3A1", CreatedAt: time.Now()},
		{ID: "msg_0000000000000000000000000b", ChannelID: ch, Chat: pn, ChatLID: lid, Sender: pn, SenderLID: lid, Type: "text", Body: []byte(`{}`), WAID: "3A2", CreatedAt: time.Now()},
	} {
		_, err := f.store.RecordInbound(ctx, m)
		require.NoError(t, err)
	}
	for _, filter := range []string{pn, lid} {
		msgs, err := f.store.ListMessages(ctx, ch, store.MessageFilter{Chat: filter})
		require.NoError(t, err)
		require.Len(t, msgs, 2, "?chat=%s", filter)
	}
	msgs, err := f.store.ListMessages(ctx, ch, store.MessageFilter{Chat: "15550107777@s.whatsapp.net"})
	require.NoError(t, err)
	require.Empty(t, msgs)
}

// The statuses of a message sent into a conversation WhatsApp addresses by
// LID carry the chat's LID, as the phone's receipts name it, and the
// message log keeps it on the sent message.
func TestStatusEventsCarryTheChatLID(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("lid-status")
	const pn = "15550107777@s.whatsapp.net"
	lid := sim.LID(pn)

	f.sim(ch, sim.ActionInbound, map[string]string{"id": "3ALIDFIRST", "from": "15550107777", "text": "hi", "addressing": "lid"})
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range f.events(ch) {
			if e.Type == event.MessageReceived {
				return true
			}
		}
		return false
	}, "the LID-addressed message")
	sent := f.sendTo(ch, "+1 555 010 7777", "hello")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, sent).Status == store.StatusRead }, "the send to be read")

	statuses := map[string]map[string]any{}
	for _, e := range f.events(ch) {
		if e.Type == event.MessageDelivered || e.Type == event.MessageRead {
			var d map[string]any
			require.NoError(t, json.Unmarshal(e.Data, &d))
			statuses[e.Type] = d
		}
	}
	for _, typ := range []string{event.MessageDelivered, event.MessageRead} {
		require.Contains(t, statuses, typ)
		require.Equal(t, pn, statuses[typ]["chat"], typ)
		require.Equal(t, lid, statuses[typ]["chat_lid"], "%s carries the chat's LID", typ)
	}
	require.Equal(t, lid, f.message(ch, sent).ChatLID, "the log keeps the LID on the sent message")
}

// A message the device could not decrypt at first arrives as the whatsmeow
// driver reports it: message.undecryptable, then the real message.received
// under the same id once the retry succeeded; the log holds only the real
// message, once.
func TestUndecryptableThenTheRealMessage(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("undecryptable")
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AUNDECRYPT", "from": "15550109999", "text": "the real text", "undecryptable": true})

	var types []string
	testenv.Eventually(t, 10*time.Second, func() bool {
		types = types[:0]
		for _, e := range f.events(ch) {
			if e.Type == event.MessageUndecryptable || e.Type == event.MessageReceived {
				var d map[string]any
				require.NoError(t, json.Unmarshal(e.Data, &d))
				require.Equal(t, "3AUNDECRYPT", d["id"], e.Type)
				types = append(types, e.Type)
			}
		}
		return len(types) == 2
	}, "the pair of events")
	require.Equal(t, []string{event.MessageUndecryptable, event.MessageReceived}, types)
	msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "only the real message is logged")
	require.Equal(t, "3AUNDECRYPT", msgs[0].WAID)
	require.Equal(t, "text", msgs[0].Type)
}
