package whatsmeow

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
)

var (
	now     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sent    = now.Add(-time.Minute)
	alice   = types.NewJID("15551230001", types.DefaultUserServer)
	aliceAD = types.NewADJID("15551230001", 0, 3)
	bob     = types.NewJID("15551230002", types.DefaultUserServer)
	me      = types.NewJID("15559990000", types.DefaultUserServer)
	group   = types.NewJID("120363000000000001", types.GroupServer)
)

// info is the metadata of a message from alice (on one of her devices) in
// chat.
func info(chat types.JID, id string) types.MessageInfo {
	return types.MessageInfo{
		MessageSource: types.MessageSource{Chat: chat, Sender: aliceAD, IsGroup: chat.Server == types.GroupServer},
		ID:            id, PushName: "Alice", Timestamp: sent,
	}
}

func msgEvent(chat types.JID, m *waE2E.Message) *events.Message {
	return &events.Message{Info: info(chat, "3A0001"), Message: m}
}

// inboundOf translates evt, requires one Inbound of type typ and decodes
// its data into a map for assertions.
func inboundOf(t *testing.T, evt any, typ string) (session.Inbound, map[string]any) {
	t.Helper()
	evs := translate(evt, now)
	require.Len(t, evs, 1)
	in, ok := evs[0].(session.Inbound)
	require.True(t, ok, "got %T", evs[0])
	require.Equal(t, typ, in.Type)
	var data map[string]any
	require.NoError(t, json.Unmarshal(in.Data, &data))
	return in, data
}

func TestTranslateConnectionEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		evt  any
		want session.Event
	}{
		{"pair success carries the device JID and phone",
			&events.PairSuccess{ID: types.NewADJID("15559990000", 0, 12), BusinessName: "Shop", Platform: "android"},
			session.PairSuccess{JID: "15559990000:12@s.whatsapp.net", Phone: "15559990000", BusinessName: "Shop", Platform: "android"}},
		{"pair error carries its reason",
			&events.PairError{Error: errors.New("invalid device signature")},
			session.PairError{Reason: "invalid device signature"}},
		{"connected", &events.Connected{}, session.Connected{}},
		{"disconnected by the server", &events.Disconnected{}, session.Disconnected{Reason: state.ReasonRemoteClosed}},
		{"logged out from the phone while connected",
			&events.LoggedOut{OnConnect: false},
			session.LoggedOut{Reason: state.ReasonLoggedOut}},
		{"logged out found on connect",
			&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut},
			session.LoggedOut{Reason: state.ReasonLoggedOut}},
		{"primary device gone",
			&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureMainDeviceGone},
			session.LoggedOut{Reason: ReasonPrimaryDeviceGone}},
		{"logged out by WhatsApp",
			&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureUnknownLogout},
			session.LoggedOut{Reason: ReasonLoggedOutByWhatsApp}},
		{"stream replaced", &events.StreamReplaced{}, session.StreamReplaced{}},
		{"temporary ban until its expiry",
			&events.TemporaryBan{Code: events.TempBanBlockedByUsers, Expire: 2 * time.Hour},
			session.TemporaryBan{Code: "102", Until: now.Add(2 * time.Hour)}},
		{"temporary ban without expiry is assumed to last an hour",
			&events.TemporaryBan{Code: events.TempBanSentToTooManyPeople},
			session.TemporaryBan{Code: "101", Until: now.Add(time.Hour)}},
		{"unknown 4xx connect failure is not retried",
			&events.ConnectFailure{Reason: events.ConnectFailureBadUserAgent, Message: "bad ua"},
			session.ConnectFailure{Reason: "connect_failure_409", Message: "409: client user agent was rejected: bad ua", Retryable: false}},
		{"5xx connect failure is retried",
			&events.ConnectFailure{Reason: events.ConnectFailureExperimental},
			session.ConnectFailure{Reason: "connect_failure_501", Message: "501: unknown error", Retryable: true}},
		{"client outdated", &events.ClientOutdated{}, session.ClientOutdated{}},
		{"unknown stream error closes the connection",
			&events.StreamError{Code: "999"},
			session.Disconnected{Reason: ReasonStreamError}},
		{"keep-alive timeout",
			&events.KeepAliveTimeout{ErrorCount: 3, LastSuccess: sent},
			session.KeepAlive{OK: false, ErrorCount: 3, LastSuccess: sent}},
		{"keep-alive restored", &events.KeepAliveRestored{}, session.KeepAlive{OK: true, LastSuccess: now}},
	}
	t.Run("keep-alives failing for too long drop the connection", func(t *testing.T) {
		t.Parallel()
		last := now.Add(-4 * time.Minute)
		require.Equal(t, []session.Event{
			session.KeepAlive{OK: false, ErrorCount: 9, LastSuccess: last},
			session.Disconnected{Reason: ReasonKeepAliveTimeout},
		}, translate(&events.KeepAliveTimeout{ErrorCount: 9, LastSuccess: last}, now))
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, []session.Event{tc.want}, translate(tc.evt, now))
		})
	}
}

func TestTranslateIgnoresWhatWagateDoesNotReport(t *testing.T) {
	t.Parallel()
	for name, evt := range map[string]any{
		"QR codes (handled by the QR channel)":     &events.QR{Codes: []string{"a"}},
		"history sync":                             &events.HistorySync{},
		"offline sync":                             &events.OfflineSyncCompleted{Count: 3},
		"push name":                                &events.PushName{JID: alice, NewPushName: "A"},
		"poll vote (encrypted to the creator)":     msgEvent(alice, &waE2E.Message{PollUpdateMessage: &waE2E.PollUpdateMessage{}}),
		"sender key distribution only":             msgEvent(group, &waE2E.Message{SenderKeyDistributionMessage: &waE2E.SenderKeyDistributionMessage{}}),
		"protocol message other than edit/revoke":  msgEvent(me, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_HISTORY_SYNC_NOTIFICATION.Enum()}}),
		"read receipt of our own device":           &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: me, IsFromMe: true}, MessageIDs: []string{"X"}, Type: types.ReceiptTypeRead},
		"read-self receipt":                        &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: alice}, MessageIDs: []string{"X"}, Type: types.ReceiptTypeReadSelf},
		"retry receipt":                            &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: alice}, MessageIDs: []string{"X"}, Type: types.ReceiptTypeRetry},
		"sender receipt":                           &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: me}, MessageIDs: []string{"X"}, Type: types.ReceiptTypeSender},
		"group info without changes":               &events.GroupInfo{JID: group},
		"call relay latency":                       &events.CallRelayLatency{},
		"manual login reconnect (session handles)": &events.ManualLoginReconnect{},
	} {
		require.Nil(t, translate(evt, now), name)
	}
}

func TestTranslateMessages(t *testing.T) {
	t.Parallel()
	sha := []byte{0xab, 0xcd}
	tests := []struct {
		name  string
		chat  types.JID
		msg   *waE2E.Message
		check func(t *testing.T, d map[string]any)
	}{
		{"text", alice, &waE2E.Message{Conversation: proto.String("hello")}, func(t *testing.T, d map[string]any) {
			require.Equal(t, "text", d["type"])
			require.Equal(t, "hello", d["text"])
		}},
		{"extended text replying to a message", group, &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
			Text: proto.String("yes"), ContextInfo: &waE2E.ContextInfo{StanzaID: proto.String("3EB0QUOTED"), IsForwarded: proto.Bool(true)},
		}}, func(t *testing.T, d map[string]any) {
			require.Equal(t, "text", d["type"])
			require.Equal(t, "yes", d["text"])
			require.Equal(t, "3EB0QUOTED", d["reply_to"])
			require.Equal(t, true, d["forwarded"])
			require.Equal(t, true, d["is_group"])
			require.Equal(t, group.String(), d["chat"])
		}},
		{"image", alice, &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			Mimetype: proto.String("image/jpeg"), Caption: proto.String("look"), FileLength: proto.Uint64(1234), FileSHA256: sha,
			Width: proto.Uint32(640), Height: proto.Uint32(480),
		}}, func(t *testing.T, d map[string]any) {
			require.Equal(t, "image", d["type"])
			require.Equal(t, map[string]any{"mime": "image/jpeg", "caption": "look", "size": 1234.0, "sha256": "abcd", "width": 640.0, "height": 480.0}, d["media"])
		}},
		{"video", alice, &waE2E.Message{VideoMessage: &waE2E.VideoMessage{Mimetype: proto.String("video/mp4"), Seconds: proto.Uint32(12), FileLength: proto.Uint64(99)}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "video", d["type"])
				require.Equal(t, map[string]any{"mime": "video/mp4", "size": 99.0, "seconds": 12.0}, d["media"])
			}},
		{"round video note", alice, &waE2E.Message{PtvMessage: &waE2E.VideoMessage{Mimetype: proto.String("video/mp4"), FileLength: proto.Uint64(5)}},
			func(t *testing.T, d map[string]any) { require.Equal(t, "video", d["type"]) }},
		{"voice note", alice, &waE2E.Message{AudioMessage: &waE2E.AudioMessage{Mimetype: proto.String(voiceMIME), PTT: proto.Bool(true), Seconds: proto.Uint32(4), FileLength: proto.Uint64(7)}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "audio", d["type"])
				require.Equal(t, map[string]any{"mime": voiceMIME, "size": 7.0, "seconds": 4.0, "voice": true}, d["media"])
			}},
		{"document", alice, &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{Mimetype: proto.String("application/pdf"), FileName: proto.String("a.pdf"), PageCount: proto.Uint32(3), FileLength: proto.Uint64(10)}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "document", d["type"])
				require.Equal(t, map[string]any{"mime": "application/pdf", "size": 10.0, "filename": "a.pdf", "pages": 3.0}, d["media"])
			}},
		{"sticker", alice, &waE2E.Message{StickerMessage: &waE2E.StickerMessage{Mimetype: proto.String("image/webp"), IsAnimated: proto.Bool(true), FileLength: proto.Uint64(8)}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "sticker", d["type"])
				require.Equal(t, map[string]any{"mime": "image/webp", "size": 8.0, "animated": true}, d["media"])
			}},
		{"location", alice, &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(52.5), DegreesLongitude: proto.Float64(13.4), Name: proto.String("Berlin")}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "location", d["type"])
				require.Equal(t, map[string]any{"latitude": 52.5, "longitude": 13.4, "name": "Berlin"}, d["location"])
			}},
		{"live location", alice, &waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{DegreesLatitude: proto.Float64(1), DegreesLongitude: proto.Float64(2)}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, map[string]any{"latitude": 1.0, "longitude": 2.0, "live": true}, d["location"])
			}},
		{"contact", alice, &waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: proto.String("Bob"), Vcard: proto.String("BEGIN:VCARD\nFN:Bob\nEND:VCARD")}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "contact", d["type"])
				require.Equal(t, []any{map[string]any{"name": "Bob", "vcard": "BEGIN:VCARD\nFN:Bob\nEND:VCARD"}}, d["contacts"])
			}},
		{"several contacts", alice, &waE2E.Message{ContactsArrayMessage: &waE2E.ContactsArrayMessage{Contacts: []*waE2E.ContactMessage{
			{DisplayName: proto.String("A"), Vcard: proto.String("v1")}, {DisplayName: proto.String("B"), Vcard: proto.String("v2")},
		}}}, func(t *testing.T, d map[string]any) {
			require.Equal(t, "contact", d["type"])
			require.Len(t, d["contacts"], 2)
		}},
		{"poll", group, &waE2E.Message{PollCreationMessageV3: &waE2E.PollCreationMessage{Name: proto.String("Lunch?"), SelectableOptionsCount: proto.Uint32(1),
			Options: []*waE2E.PollCreationMessage_Option{{OptionName: proto.String("Yes")}, {OptionName: proto.String("No")}}}},
			func(t *testing.T, d map[string]any) {
				require.Equal(t, "poll", d["type"])
				require.Equal(t, map[string]any{"name": "Lunch?", "options": []any{"Yes", "No"}, "selectable": 1.0}, d["poll"])
			}},
		{"anything else is unsupported but reported", alice, &waE2E.Message{GroupInviteMessage: &waE2E.GroupInviteMessage{}},
			func(t *testing.T, d map[string]any) { require.Equal(t, "unsupported", d["type"]) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, d := inboundOf(t, msgEvent(tc.chat, tc.msg), event.MessageReceived)
			require.Equal(t, sent, in.At)
			require.Equal(t, "3A0001", d["id"])
			require.Equal(t, alice.String(), d["from"], "the sender without its device")
			require.Equal(t, "Alice", d["push_name"])
			require.Equal(t, false, d["from_me"])
			require.Equal(t, sent.Format(time.RFC3339Nano), d["timestamp"])
			tc.check(t, d)
		})
	}
}

func TestTranslateMessageFlags(t *testing.T) {
	t.Parallel()
	e := msgEvent(alice, &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Mimetype: proto.String("image/jpeg")}})
	e.IsViewOnce, e.IsEphemeral = true, true
	_, d := inboundOf(t, e, event.MessageReceived)
	require.Equal(t, true, d["view_once"])
	require.Equal(t, true, d["ephemeral"])
}

func TestTranslateNaNLocationStillEncodes(t *testing.T) {
	t.Parallel()
	nan := 0.0
	nan /= nan
	_, d := inboundOf(t, msgEvent(alice, &waE2E.Message{LocationMessage: &waE2E.LocationMessage{DegreesLatitude: proto.Float64(nan), DegreesLongitude: proto.Float64(3)}}), event.MessageReceived)
	require.Equal(t, map[string]any{"latitude": 0.0, "longitude": 3.0}, d["location"])
}

func TestTranslateReactionEditRevoke(t *testing.T) {
	t.Parallel()
	key := &waCommon.MessageKey{ID: proto.String("3EB0TARGET"), RemoteJID: proto.String(alice.String()), FromMe: proto.Bool(true)}

	_, d := inboundOf(t, msgEvent(alice, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: key, Text: proto.String("👍")}}), event.MessageReaction)
	require.Equal(t, map[string]any{"id": "3A0001", "message_id": "3EB0TARGET", "chat": alice.String(), "from": alice.String(), "emoji": "👍",
		"timestamp": sent.Format(time.RFC3339Nano)}, d)

	_, d = inboundOf(t, msgEvent(alice, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: key, Text: proto.String("")}}), event.MessageReaction)
	require.Equal(t, "", d["emoji"], "an empty emoji removes the reaction")

	// An edit arrives wrapped; whatsmeow unwraps it into a protocol message.
	edit := &events.Message{Info: info(alice, "3A0002"), RawMessage: &waE2E.Message{EditedMessage: &waE2E.FutureProofMessage{Message: &waE2E.Message{
		ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_MESSAGE_EDIT.Enum(), Key: key,
			EditedMessage: &waE2E.Message{Conversation: proto.String("fixed")}},
	}}}}
	edit.UnwrapRaw()
	require.True(t, edit.IsEdit)
	_, d = inboundOf(t, edit, event.MessageEdited)
	require.Equal(t, map[string]any{"id": "3A0002", "message_id": "3EB0TARGET", "chat": alice.String(), "from": alice.String(), "text": "fixed",
		"timestamp": sent.Format(time.RFC3339Nano)}, d)

	_, d = inboundOf(t, msgEvent(group, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{Type: waE2E.ProtocolMessage_REVOKE.Enum(), Key: key}}), event.MessageDeleted)
	require.Equal(t, map[string]any{"id": "3A0001", "message_id": "3EB0TARGET", "chat": group.String(), "from": alice.String(),
		"timestamp": sent.Format(time.RFC3339Nano)}, d)
}

func TestTranslateUndecryptable(t *testing.T) {
	t.Parallel()
	in, d := inboundOf(t, &events.UndecryptableMessage{Info: info(alice, "3A0009"), IsUnavailable: true}, event.MessageUndecryptable)
	require.Equal(t, sent, in.At)
	require.Equal(t, "undecryptable", d["type"])
	require.Equal(t, "3A0009", d["id"])
	require.Equal(t, true, d["unavailable"])
}

func TestTranslateReceipts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rt     types.ReceiptType
		typ    string
		status string
	}{
		{types.ReceiptTypeDelivered, event.MessageDelivered, "delivered"},
		{types.ReceiptTypeRead, event.MessageRead, "read"},
		{types.ReceiptTypePlayed, event.MessagePlayed, "played"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			r := &events.Receipt{MessageSource: types.MessageSource{Chat: alice, Sender: aliceAD}, MessageIDs: []string{"3EB0A", "3EB0B"}, Timestamp: sent, Type: tc.rt}
			in, d := inboundOf(t, r, tc.typ)
			require.Equal(t, []string{"3EB0A", "3EB0B"}, in.MessageIDs)
			require.Equal(t, tc.status, in.Status)
			require.Equal(t, sent, in.At)
			require.Equal(t, map[string]any{"ids": []any{"3EB0A", "3EB0B"}, "chat": alice.String(), "from": alice.String(), "status": tc.status,
				"timestamp": sent.Format(time.RFC3339Nano)}, d)
		})
	}
}

func TestTranslatePresence(t *testing.T) {
	t.Parallel()
	_, d := inboundOf(t, &events.Presence{From: alice, LastSeen: sent, Unavailable: true}, event.PresenceUpdated)
	require.Equal(t, map[string]any{"from": alice.String(), "state": "unavailable", "last_seen": sent.Format(time.RFC3339Nano), "timestamp": now.Format(time.RFC3339Nano)}, d)

	_, d = inboundOf(t, &events.Presence{From: alice}, event.PresenceUpdated)
	require.Equal(t, "available", d["state"])
	require.NotContains(t, d, "last_seen", "hidden last seen is left out")

	for _, tc := range []struct {
		state types.ChatPresence
		media types.ChatPresenceMedia
		want  string
	}{
		{types.ChatPresenceComposing, types.ChatPresenceMediaText, "composing"},
		{types.ChatPresenceComposing, types.ChatPresenceMediaAudio, "recording"},
		{types.ChatPresencePaused, types.ChatPresenceMediaText, "paused"},
	} {
		_, d := inboundOf(t, &events.ChatPresence{MessageSource: types.MessageSource{Chat: group, Sender: aliceAD}, State: tc.state, Media: tc.media}, event.ChatPresence)
		require.Equal(t, map[string]any{"from": alice.String(), "chat": group.String(), "state": tc.want, "timestamp": now.Format(time.RFC3339Nano)}, d)
	}
}

func TestTranslateGroupInfo(t *testing.T) {
	t.Parallel()
	link := "https://chat.whatsapp.com/abc"
	evs := translate(&events.GroupInfo{
		JID: group, Sender: &aliceAD, Timestamp: sent, JoinReason: "invite",
		Join: []types.JID{bob}, Leave: []types.JID{me},
		Name:                   &types.GroupName{Name: "Team"},
		Topic:                  &types.GroupTopic{Topic: "plans"},
		Locked:                 &types.GroupLocked{IsLocked: true},
		Announce:               &types.GroupAnnounce{IsAnnounce: false},
		Ephemeral:              &types.GroupEphemeral{IsEphemeral: true, DisappearingTimer: 86400},
		MembershipApprovalMode: &types.GroupMembershipApprovalMode{IsJoinApprovalRequired: true},
		NewInviteLink:          &link,
		Promote:                []types.JID{bob},
		Demote:                 []types.JID{alice},
	}, now)
	require.Len(t, evs, 3)
	decode := func(i int, typ string) map[string]any {
		in := evs[i].(session.Inbound)
		require.Equal(t, typ, in.Type)
		var d map[string]any
		require.NoError(t, json.Unmarshal(in.Data, &d))
		return d
	}
	ts := sent.Format(time.RFC3339Nano)
	require.Equal(t, map[string]any{"group": group.String(), "participants": []any{bob.String()}, "by": alice.String(), "reason": "invite", "timestamp": ts},
		decode(0, event.GroupMemberAdded))
	require.Equal(t, map[string]any{"group": group.String(), "participants": []any{me.String()}, "by": alice.String(), "timestamp": ts},
		decode(1, event.GroupMemberRemoved))
	require.Equal(t, map[string]any{"group": group.String(), "by": alice.String(), "timestamp": ts, "name": "Team", "topic": "plans",
		"locked": true, "announce": false, "ephemeral_seconds": 86400.0, "join_approval": true, "invite_link": link,
		"promoted": []any{bob.String()}, "demoted": []any{alice.String()}}, decode(2, event.GroupUpdated))

	// Disappearing messages turned off, and a deleted group.
	_, d := inboundOf(t, &events.GroupInfo{JID: group, Ephemeral: &types.GroupEphemeral{}, Delete: &types.GroupDelete{Deleted: true}}, event.GroupUpdated)
	require.Equal(t, 0.0, d["ephemeral_seconds"])
	require.Equal(t, true, d["deleted"])
	require.Equal(t, now.Format(time.RFC3339Nano), d["timestamp"], "no timestamp: now")
}

func TestTranslateJoinedGroup(t *testing.T) {
	t.Parallel()
	created := sent.Add(-time.Hour)
	jg := &events.JoinedGroup{Type: "new", Sender: &aliceAD, GroupInfo: types.GroupInfo{
		JID: group, OwnerJID: alice, GroupName: types.GroupName{Name: "Team"}, GroupTopic: types.GroupTopic{Topic: "plans"}, GroupCreated: created,
		Participants: []types.GroupParticipant{{JID: alice, IsSuperAdmin: true}, {JID: me}},
	}}
	_, d := inboundOf(t, jg, event.GroupCreated)
	require.Equal(t, map[string]any{"group": group.String(), "name": "Team", "topic": "plans", "owner": alice.String(), "by": alice.String(),
		"participants": []any{alice.String(), me.String()}, "admins": []any{alice.String()}, "reason": "created",
		"timestamp": created.Format(time.RFC3339Nano)}, d)

	_, d = inboundOf(t, &events.JoinedGroup{Reason: "invite", GroupInfo: types.GroupInfo{JID: group}}, event.GroupCreated)
	require.Equal(t, "invite", d["reason"])
	_, d = inboundOf(t, &events.JoinedGroup{GroupInfo: types.GroupInfo{JID: group}}, event.GroupCreated)
	require.Equal(t, "added", d["reason"])
}

func TestTranslateCalls(t *testing.T) {
	t.Parallel()
	meta := types.BasicCallMeta{From: aliceAD, CallCreator: aliceAD, CallID: "CALL1", Timestamp: sent}
	videoOffer := &waBinary.Node{Tag: "offer", Content: []waBinary.Node{{Tag: "audio"}, {Tag: "video"}}}
	tests := []struct {
		name string
		evt  any
		want map[string]any
	}{
		{"video offer", &events.CallOffer{BasicCallMeta: meta, Data: videoOffer}, map[string]any{"status": "offer", "video": true}},
		{"voice offer", &events.CallOffer{BasicCallMeta: meta, Data: &waBinary.Node{Tag: "offer"}}, map[string]any{"status": "offer", "video": false}},
		{"group call notice", &events.CallOfferNotice{BasicCallMeta: types.BasicCallMeta{From: aliceAD, CallID: "CALL1", Timestamp: sent, GroupJID: group}, Media: "video"},
			map[string]any{"status": "offer_notice", "video": true, "group": group.String()}},
		{"accepted", &events.CallAccept{BasicCallMeta: meta}, map[string]any{"status": "accept", "video": false}},
		{"rejected", &events.CallReject{BasicCallMeta: meta}, map[string]any{"status": "reject", "video": false}},
		{"terminated", &events.CallTerminate{BasicCallMeta: meta, Reason: "timeout"}, map[string]any{"status": "terminate", "video": false, "reason": "timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, d := inboundOf(t, tc.evt, event.CallReceived)
			want := map[string]any{"id": "CALL1", "from": alice.String(), "timestamp": sent.Format(time.RFC3339Nano)}
			for k, v := range tc.want {
				want[k] = v
			}
			require.Equal(t, want, d)
		})
	}
}

// Point 7 of issue 16: a server-error receipt, as whatsmeow's parseReceipt
// emits it for a message we sent, is a receipt of status failed: the
// worker fails the message unless it was delivered already.
func TestServerErrorReceiptMarksTheMessageFailed(t *testing.T) {
	t.Parallel()
	evt := &events.Receipt{
		MessageSource: types.MessageSource{Chat: alice, Sender: aliceAD},
		MessageIDs:    []types.MessageID{"3EB0A"},
		Timestamp:     sent,
		Type:          types.ReceiptTypeServerError,
	}
	in, d := inboundOf(t, evt, event.MessageFailed)
	require.Equal(t, []string{"3EB0A"}, in.MessageIDs)
	require.Equal(t, session.StatusFailed, in.Status)
	require.Equal(t, "failed", d["status"])

	// Our other devices' server errors are not about what this channel sent.
	evt.IsFromMe = true
	require.Empty(t, translate(evt, now))
}
