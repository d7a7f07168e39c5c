package whatsmeow

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/schemas"
)

func reactionTo(id, emoji string) *waE2E.Message {
	return &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
		Key: &waCommon.MessageKey{RemoteJID: proto.String(aliceLID.String()), FromMe: proto.Bool(true), ID: proto.String(id)}, Text: proto.String(emoji)}}
}

var (
	aliceLID    = types.NewJID("81234567890123", types.HiddenUserServer)
	aliceLIDAD  = types.JID{User: "81234567890123", Server: types.HiddenUserServer, Device: 3}
	strangerLID = types.NewJID("81234567890999", types.HiddenUserServer)
	myLIDAD     = types.JID{User: "89999999999999", Server: types.HiddenUserServer}
)

// knows is a resolver holding the LID map whatsmeow's store would.
func knows(pairs map[types.JID]types.JID) pnResolver {
	return func(lid types.JID) types.JID { return pairs[lid.ToNonAD()] }
}

// inboundWith is inboundOf with a LID map.
func inboundWith(t *testing.T, evt any, pn pnResolver) session.Inbound {
	t.Helper()
	evs := translateWith(evt, now, pn)
	require.Len(t, evs, 1)
	in, ok := evs[0].(session.Inbound)
	require.True(t, ok, "got %T", evs[0])
	return in
}

// Point 1 of issue 16: every message, receipt, group and call event
// carries the phone number next to the LID WhatsApp used, and one chat
// key per conversation. The sources are built as whatsmeow's
// parseMessageSource fills them.
func TestPhoneNumbersNextToLIDs(t *testing.T) {
	t.Parallel()
	validator, err := schemas.NewValidator()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		evt  any
		pn   pnResolver
		typ  string
		want map[string]any
	}{
		{
			name: "a direct message addressed by LID, with sender_pn",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: aliceLID, Sender: aliceLIDAD, AddressingMode: types.AddressingModeLID, SenderAlt: aliceAD,
			}, ID: "3A0001", Timestamp: sent}, Message: text("hi")},
			typ: event.MessageReceived,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(),
				"from_lid": aliceLID.String(), "addressing_mode": "lid"},
		},
		{
			name: "a direct message addressed by LID without its number, known to the store",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: aliceLID, Sender: aliceLIDAD, AddressingMode: types.AddressingModeLID,
			}, ID: "3A0002", Timestamp: sent}, Message: text("hi")},
			pn:   knows(map[types.JID]types.JID{aliceLID: alice}),
			typ:  event.MessageReceived,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(), "from_lid": aliceLID.String()},
		},
		{
			name: "a LID whose number nobody knows stays the key",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: strangerLID, Sender: strangerLID, AddressingMode: types.AddressingModeLID,
			}, ID: "3A0003", Timestamp: sent}, Message: text("hi")},
			pn:   knows(nil),
			typ:  event.MessageReceived,
			want: map[string]any{"chat": strangerLID.String(), "chat_lid": strangerLID.String(), "from": strangerLID.String()},
		},
		{
			name: "a message addressed by number, with sender_lid",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: alice, Sender: aliceAD, AddressingMode: types.AddressingModePN, SenderAlt: aliceLIDAD,
			}, ID: "3A0004", Timestamp: sent}, Message: text("hi")},
			typ:  event.MessageReceived,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(), "from_lid": aliceLID.String(), "addressing_mode": "pn"},
		},
		{
			name: "sent from the phone to a LID chat, with peer_recipient_pn",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: aliceLID, Sender: myLIDAD, IsFromMe: true, RecipientAlt: alice,
			}, ID: "3EB0PHONE", Timestamp: sent}, Message: text("from my phone")},
			typ:  event.MessageReceived,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from_me": true},
		},
		{
			name: "a group message from a LID participant, with participant_pn",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: group, Sender: aliceLIDAD, IsGroup: true, AddressingMode: types.AddressingModeLID, SenderAlt: aliceAD,
			}, ID: "3A0005", Timestamp: sent}, Message: text("hi all")},
			typ:  event.MessageReceived,
			want: map[string]any{"chat": group.String(), "from": alice.String(), "from_lid": aliceLID.String()},
		},
		{
			name: "a reaction addressed by LID",
			evt: &events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{
				Chat: aliceLID, Sender: aliceLIDAD, AddressingMode: types.AddressingModeLID, SenderAlt: aliceAD,
			}, ID: "3A0006", Timestamp: sent}, Message: reactionTo("3EB0MINE", "👍")},
			typ:  event.MessageReaction,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(), "from_lid": aliceLID.String()},
		},
		{
			name: "a read receipt from a LID chat",
			evt: &events.Receipt{MessageSource: types.MessageSource{
				Chat: aliceLID, Sender: aliceLIDAD, AddressingMode: types.AddressingModeLID, SenderAlt: aliceAD,
			}, MessageIDs: []string{"3EB0MINE"}, Type: types.ReceiptTypeRead, Timestamp: sent},
			typ:  event.MessageRead,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(), "from_lid": aliceLID.String()},
		},
		{
			name: "group members named by LID, the author with SenderPN",
			evt:  &events.GroupInfo{JID: group, Sender: &aliceLID, SenderPN: &alice, Join: []types.JID{bob, strangerLID}, Timestamp: sent},
			pn:   knows(nil),
			typ:  event.GroupMemberAdded,
			want: map[string]any{"by": alice.String(), "by_lid": aliceLID.String(),
				"participants": []any{bob.String(), strangerLID.String()}, "participants_lid": []any{"", strangerLID.String()}},
		},
		{
			name: "a call from a LID with its number",
			evt: &events.CallOffer{BasicCallMeta: types.BasicCallMeta{From: aliceLIDAD, CallCreator: aliceLIDAD, CallCreatorAlt: aliceAD,
				CallID: "CALL1", Timestamp: sent}},
			typ:  event.CallReceived,
			want: map[string]any{"from": alice.String(), "from_lid": aliceLID.String()},
		},
		{
			name: "typing in a LID chat",
			evt: &events.ChatPresence{MessageSource: types.MessageSource{Chat: aliceLID, Sender: aliceLIDAD, SenderAlt: aliceAD},
				State: types.ChatPresenceComposing},
			typ:  event.ChatPresence,
			want: map[string]any{"chat": alice.String(), "chat_lid": aliceLID.String(), "from": alice.String(), "from_lid": aliceLID.String()},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inboundWith(t, tc.evt, tc.pn)
			require.Equal(t, tc.typ, in.Type)
			var data map[string]any
			require.NoError(t, json.Unmarshal(in.Data, &data))
			for k, v := range tc.want {
				require.Equal(t, v, data[k], k)
			}
			if len(in.MessageIDs) > 0 {
				return // a receipt: the worker publishes the message's new status
			}
			if in.Type == event.MessageReceived {
				data["message_id"] = ids.New(ids.Message) // the worker adds it
			}
			env, err := event.New(in.Type, ids.New(ids.Channel), 1, in.At, data)
			require.NoError(t, err)
			raw, err := json.Marshal(env)
			require.NoError(t, err)
			require.NoError(t, validator.ValidateEvent(raw), "%s %s", in.Type, raw)
		})
	}
}

// Point 7 of issue 16: in a LID-addressed chat WhatsApp names our own
// messages by our LID; a reaction to one of them is to our message.
func TestOwnLIDIsFromMeInMessageKeys(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	bd.selfLID = myLIDAD.ToNonAD()
	msg := build(t, bd, aliceLID, SendBody{Type: "reaction", Reaction: &Reaction{MessageID: "3EB0MINE", Emoji: "👍", Sender: myLIDAD.ToNonAD().String()}})
	require.True(t, msg.GetReactionMessage().GetKey().GetFromMe())
	msg = build(t, bd, aliceLID, SendBody{Type: "reaction", Reaction: &Reaction{MessageID: "3A0001", Emoji: "👍", Sender: aliceLID.String()}})
	require.False(t, msg.GetReactionMessage().GetKey().GetFromMe())
}
