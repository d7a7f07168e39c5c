package whatsmeow

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/session"
)

func webMsg(chat types.JID, id string, fromMe bool, participant string, at time.Time, m *waE2E.Message) *waHistorySync.HistorySyncMsg {
	w := &waWeb.WebMessageInfo{
		Key:              &waCommon.MessageKey{RemoteJID: proto.String(chat.String()), FromMe: proto.Bool(fromMe), ID: proto.String(id)},
		MessageTimestamp: proto.Uint64(uint64(at.Unix())),
		Message:          m,
	}
	if participant != "" {
		w.Participant = proto.String(participant)
	}
	return &waHistorySync.HistorySyncMsg{Message: w}
}

// The event whatsmeow dispatches for a history chunk (message.go:
// handleHistorySyncNotification → &events.HistorySync{Data: …}), with a
// LID chat, a group and a message this account sent, each conversation's
// messages newest first as WhatsApp sends them.
func TestHistorySyncTranslatesConversationByConversation(t *testing.T) {
	t.Parallel()
	t1, t2, t3 := sent.Add(-3*time.Hour), sent.Add(-2*time.Hour), sent.Add(-time.Hour)
	mute := uint64(now.Add(8 * time.Hour).Unix())
	evt := &events.HistorySync{Data: &waHistorySync.HistorySync{
		SyncType: waHistorySync.HistorySync_RECENT.Enum(), ChunkOrder: proto.Uint32(2), Progress: proto.Uint32(40),
		Conversations: []*waHistorySync.Conversation{
			{ID: proto.String(aliceLID.String()), PnJID: proto.String(alice.String()), Name: proto.String("Alice"), UnreadCount: proto.Uint32(2),
				Pinned: proto.Uint32(1), MuteEndTime: proto.Uint64(mute), Messages: []*waHistorySync.HistorySyncMsg{
					webMsg(aliceLID, "A3", true, "", t3, text("see you")),
					webMsg(aliceLID, "A2", false, "", t2, reactionTo("A1", "👍")),
					webMsg(aliceLID, "A1", false, "", t1, text("hi")),
				}},
			{ID: proto.String(group.String()), Archived: proto.Bool(true), Messages: []*waHistorySync.HistorySyncMsg{
				webMsg(group, "G1", false, bob.String(), t1, text("hello group")),
			}},
			{ID: proto.String("status@broadcast")},
		},
	}}

	var got []session.Inbound
	err := EmitHistory(evt.Data, me, now, nil, func(in session.Inbound) error { got = append(got, in); return nil })
	require.NoError(t, err)
	require.Len(t, got, 3, "two conversations (status broadcasts are not chats), then the chunk")
	require.Equal(t, history.SessionConversation, got[0].Type)
	require.Equal(t, history.SessionChunk, got[2].Type)

	var a history.Conversation
	require.NoError(t, json.Unmarshal(got[0].Data, &a))
	require.Equal(t, alice.String(), a.Chat, "a LID chat is keyed by the phone number the chunk gives")
	require.Equal(t, aliceLID.String(), a.ChatLID)
	require.Equal(t, "Alice", a.Name)
	require.Equal(t, 2, a.UnreadCount)
	require.True(t, a.Pinned)
	require.Equal(t, time.Unix(int64(mute), 0).UTC(), *a.MutedUntil)
	require.Equal(t, 1, a.Skipped, "the reaction is not a message of the log")
	require.Len(t, a.Messages, 2)
	require.Equal(t, "A1", a.Messages[0].ID, "oldest first")
	require.Equal(t, alice.String(), a.Messages[0].From)
	require.Equal(t, "text", a.Messages[0].Type)
	require.True(t, a.Messages[1].FromMe)
	require.Equal(t, me.String(), a.Messages[1].From)
	var d map[string]any
	require.NoError(t, json.Unmarshal(a.Messages[0].Data, &d))
	require.Equal(t, "hi", d["text"])

	var g history.Conversation
	require.NoError(t, json.Unmarshal(got[1].Data, &g))
	require.True(t, g.Archived)
	require.Equal(t, bob.String(), g.Messages[0].From, "a group message's sender is its participant")

	var ch history.Chunk
	require.NoError(t, json.Unmarshal(got[2].Data, &ch))
	require.Equal(t, history.Chunk{SyncType: "RECENT", Chunk: 2, Progress: ch.Progress, Conversations: 2}, ch)
	require.Equal(t, 40, *ch.Progress)
}

func TestHistorySyncStopsWhenAConversationIsNotRecorded(t *testing.T) {
	t.Parallel()
	data := &waHistorySync.HistorySync{SyncType: waHistorySync.HistorySync_INITIAL_BOOTSTRAP.Enum(), Conversations: []*waHistorySync.Conversation{
		{ID: proto.String(alice.String())}, {ID: proto.String(bob.String())},
	}}
	n := 0
	err := EmitHistory(data, me, now, nil, func(session.Inbound) error { n++; return session.ErrNotConnected })
	require.ErrorIs(t, err, ErrHistoryStopped)
	require.Equal(t, 1, n, "nothing follows a conversation the worker did not record")
}
