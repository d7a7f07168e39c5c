package whatsmeow

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
)

// appStateEvents builds the events whatsmeow's dispatchAppState emits for
// the mutations of patch, one each (appstate.go: the action of the
// mutation's value, the chat of its index, the mutation's timestamp).
func appStateEvents(t *testing.T, patch appstate.PatchInfo, chat types.JID, ts time.Time, fullSync bool) []any {
	t.Helper()
	var out []any
	for _, m := range patch.Mutations {
		out = append(out, appStateEvent(t, m, chat, ts, fullSync))
	}
	return out
}

func appStateEvent(t *testing.T, m appstate.MutationInfo, chat types.JID, ts time.Time, fullSync bool) any {
	t.Helper()
	require.Equal(t, chat.String(), m.Index[1])
	switch m.Index[0] {
	case appstate.IndexArchive:
		return &events.Archive{JID: chat, Timestamp: ts, Action: m.Value.GetArchiveChatAction(), FromFullSync: fullSync}
	case appstate.IndexPin:
		return &events.Pin{JID: chat, Timestamp: ts, Action: m.Value.GetPinAction(), FromFullSync: fullSync}
	case appstate.IndexMute:
		return &events.Mute{JID: chat, Timestamp: ts, Action: m.Value.GetMuteAction(), FromFullSync: fullSync}
	case appstate.IndexMarkChatAsRead:
		return &events.MarkChatAsRead{JID: chat, Timestamp: ts, Action: m.Value.GetMarkChatAsReadAction(), FromFullSync: fullSync}
	}
	t.Fatalf("unexpected index %v", m.Index)
	return nil
}

func changeOf(t *testing.T, evt any, pn pnResolver) chats.Change {
	t.Helper()
	in := inboundWith(t, evt, pn)
	require.Equal(t, event.ChatUpdated, in.Type)
	var c chats.Change
	require.NoError(t, json.Unmarshal(in.Data, &c))
	return c
}

func TestChatAppStateEventsTranslateToChanges(t *testing.T) {
	t.Parallel()
	ts := now.Add(-time.Minute)
	until := now.Add(8 * time.Hour).Truncate(time.Millisecond)
	yes, no := proto.Bool(true), proto.Bool(false)
	tests := []struct {
		name  string
		patch appstate.PatchInfo
		want  []chats.Change
	}{
		{"archive (which unpins)", appstate.BuildArchive(alice, true, sent, nil), []chats.Change{{Archived: yes}, {Pinned: no}}},
		{"unarchive", appstate.BuildArchive(alice, false, sent, nil), []chats.Change{{Archived: no}}},
		{"pin", appstate.BuildPin(alice, true), []chats.Change{{Pinned: yes}}},
		{"mute for eight hours", appstate.BuildMuteAbs(alice, true, proto.Int64(until.UnixMilli())), []chats.Change{{Muted: yes, MutedUntil: &until}}},
		{"mute until unmuted (-1)", appstate.BuildMuteAbs(alice, true, nil), []chats.Change{{Muted: yes}}},
		{"unmute", appstate.BuildMuteAbs(alice, false, nil), []chats.Change{{Muted: no}}},
		{"mark read", appstate.BuildMarkChatAsRead(alice, true, sent, nil), []chats.Change{{Read: yes}}},
		{"mark unread", appstate.BuildMarkChatAsRead(alice, false, sent, nil), []chats.Change{{Read: no}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs := appStateEvents(t, tc.patch, alice, ts, false)
			require.Len(t, evs, len(tc.want))
			for i, evt := range evs {
				want := tc.want[i]
				want.Chat, want.Timestamp = alice.String(), ts
				require.Equal(t, want, changeOf(t, evt, nil))
			}
		})
	}

	t.Run("a LID chat is named by its phone number when known", func(t *testing.T) {
		t.Parallel()
		got := changeOf(t, appStateEvents(t, appstate.BuildPin(aliceLID, true), aliceLID, ts, false)[0], knows(map[types.JID]types.JID{aliceLID: alice}))
		require.Equal(t, alice.String(), got.Chat)
		require.Equal(t, aliceLID.String(), got.ChatLID)
	})
	t.Run("the state after pairing is a full sync", func(t *testing.T) {
		t.Parallel()
		got := changeOf(t, appStateEvents(t, appstate.BuildArchive(group, true, sent, nil), group, ts, true)[0], nil)
		require.True(t, got.FullSync)
		require.Equal(t, group.String(), got.Chat)
	})
}

func TestChatUpdatesBuildWhatsmeowsPatches(t *testing.T) {
	t.Parallel()
	yes, no := proto.Bool(true), proto.Bool(false)
	until := now.Add(time.Hour)
	last := &chats.MessageRef{ID: "3A0001", Sender: aliceAD.ToNonAD().String(), At: sent}
	patches := chatPatches(group, chats.Update{Chat: group.String(), Archived: yes, Pinned: no, Mute: yes, MutedUntil: &until, Read: yes, Last: last})
	require.Len(t, patches, 4)

	arch := patches[0].Mutations[0]
	require.Equal(t, []string{appstate.IndexArchive, group.String()}, arch.Index)
	require.True(t, arch.Value.GetArchiveChatAction().GetArchived())
	rng := arch.Value.GetArchiveChatAction().GetMessageRange()
	require.Equal(t, sent.Unix(), rng.GetLastMessageTimestamp())
	key := rng.GetMessages()[0].GetKey()
	require.Equal(t, "3A0001", key.GetID())
	require.Equal(t, group.String(), key.GetRemoteJID())
	require.Equal(t, alice.String(), key.GetParticipant(), "a group message's key names its sender")

	require.Equal(t, []string{appstate.IndexPin, group.String()}, patches[1].Mutations[0].Index)
	require.False(t, patches[1].Mutations[0].Value.GetPinAction().GetPinned())
	mute := patches[2].Mutations[0].Value.GetMuteAction()
	require.True(t, mute.GetMuted())
	require.Equal(t, until.UnixMilli(), mute.GetMuteEndTimestamp())
	require.True(t, patches[3].Mutations[0].Value.GetMarkChatAsReadAction().GetRead())

	forever := chatPatches(alice, chats.Update{Chat: alice.String(), Mute: yes, MutedUntil: &chats.Forever})
	require.Equal(t, int64(-1), forever[0].Mutations[0].Value.GetMuteAction().GetMuteEndTimestamp(), "muted until unmuted")

	require.Empty(t, chatPatches(alice, chats.Update{Chat: alice.String()}))
}

func TestUnreadMessagesAreMarkedReadPerSender(t *testing.T) {
	t.Parallel()
	unread := []chats.MessageRef{{ID: "A1", Sender: alice.String()}, {ID: "B1", Sender: bob.String()}, {ID: "A2", Sender: alice.String()}}
	require.Equal(t, map[string][]types.MessageID{alice.String(): {"A1", "A2"}, bob.String(): {"B1"}}, unreadBySender(group, unread))
	require.Equal(t, map[string][]types.MessageID{"": {"A1", "B1", "A2"}}, unreadBySender(alice, unread), "a direct chat's receipts name no sender")
}
