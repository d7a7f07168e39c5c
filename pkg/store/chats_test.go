package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// A chat first recorded under a bare LID (its number unknown), then under
// the number once WhatsApp gave it: one row, keyed by the number, with the
// LID, both messages' unread counts and the newer last message.
func TestChatRecordedUnderALIDMergesIntoItsNumber(t *testing.T) {
	t.Parallel()
	st, _ := testenv.Store(t, 1)
	ctx := context.Background()
	ch := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: ch, Name: "lid", TokenHash: []byte(ch), Shard: 0, Driver: "sim"}))
	const pn, lid = "15550108888@s.whatsapp.net", "88001234567890@lid"
	t0 := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	record := func(chat, waID string, at time.Time) string {
		body, err := json.Marshal(map[string]any{"text": waID, "push_name": "Ana"})
		require.NoError(t, err)
		m := &store.Message{ID: ids.New(ids.Message), ChannelID: ch, Chat: chat, Sender: chat, Type: "text", Body: body,
			WAID: waID, CreatedAt: at, ChatLID: lid, SenderLID: lid}
		created, err := st.RecordInbound(ctx, m)
		require.NoError(t, err)
		require.True(t, created)
		return m.ID
	}
	type row struct {
		chat, chatLID, last string
		unread              int
	}
	chats := func() []row {
		rows, err := st.Pool.Query(ctx, `SELECT chat, chat_lid, last_message_id, unread_count FROM chats WHERE channel_id = $1 ORDER BY chat`, ch)
		require.NoError(t, err)
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			require.NoError(t, rows.Scan(&r.chat, &r.chatLID, &r.last, &r.unread))
			out = append(out, r)
		}
		require.NoError(t, rows.Err())
		return out
	}

	record(lid, "WA1", t0)
	record(lid, "WA2", t0.Add(time.Second))
	require.Equal(t, []row{{chat: lid, chatLID: lid, unread: 2, last: chats()[0].last}}, chats())
	newest := record(pn, "WA3", t0.Add(2*time.Second))
	require.Equal(t, []row{{chat: pn, chatLID: lid, last: newest, unread: 3}}, chats(), "one row under the number")

	// A message that arrives again under the bare LID (the number
	// forgotten) reopens no merged row's twin once the number is known
	// again.
	record(lid, "WA4", t0.Add(3*time.Second))
	newest = record(pn, "WA5", t0.Add(4*time.Second))
	require.Equal(t, []row{{chat: pn, chatLID: lid, last: newest, unread: 5}}, chats())
}
