package history_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestImportIsIdempotentAndKeepsTheWindow(t *testing.T) {
	t.Parallel()
	st, _ := testenv.Store(t, 2)
	ctx := context.Background()
	ch := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: ch, Name: "h", TokenHash: []byte("x"), Driver: "sim"}))
	now := time.Now().UTC().Truncate(time.Second)
	msg := func(id string, fromMe bool, at time.Time) history.Message {
		data, _ := json.Marshal(map[string]any{"id": id, "chat": "15550001111@s.whatsapp.net", "type": "text", "text": id, "timestamp": at})
		return history.Message{ID: id, FromMe: fromMe, From: "15550001111@s.whatsapp.net", Type: "text", Timestamp: at, Data: data}
	}
	conv := history.Conversation{Chat: "15550001111@s.whatsapp.net", ChatLID: "211110005551@lid", Name: "Dana", UnreadCount: 1, Archived: true,
		Messages: []history.Message{msg("OLD", false, now.AddDate(0, 0, -40)), msg("M1", false, now.Add(-2*time.Hour)), msg("M2", true, now.Add(-time.Hour))}}
	announced := 0
	announce := func(m *store.Message) (store.OutboxEvent, error) {
		announced++
		ev, err := event.New(history.EventMessage, ch, 1, now, map[string]any{"message_id": m.ID})
		return store.OutboxEvent{Event: ev}, err
	}
	since := now.AddDate(0, 0, -30)

	res, err := history.Import(ctx, st, ch, conv, since, announce)
	require.NoError(t, err)
	require.Equal(t, history.Result{Messages: 2, Skipped: 1}, res)
	require.Equal(t, 2, announced)

	res, err = history.Import(ctx, st, ch, conv, since, announce)
	require.NoError(t, err)
	require.Equal(t, history.Result{Messages: 0, Skipped: 1}, res, "a chunk sent again records nothing twice")
	require.Equal(t, 2, announced, "nor announces it")

	c, err := chats.Get(ctx, st, ch, "211110005551@lid")
	require.NoError(t, err)
	require.Equal(t, "Dana", c.Name)
	require.True(t, c.Archived)
	require.Equal(t, 1, c.UnreadCount)
	require.Equal(t, "M2", c.LastMessage.WAID)
	require.Equal(t, "outbound", c.LastMessage.Direction)
	require.Equal(t, store.StatusSent, c.LastMessage.Status)
	require.True(t, c.LastAt.Equal(now.Add(-time.Hour)))

	msgs, err := st.ListMessages(ctx, ch, store.MessageFilter{Chat: conv.Chat})
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.Equal(t, "M2", msgs[0].WAID, "ids sort by the messages' own times")
}

func TestDays(t *testing.T) {
	t.Parallel()
	require.Equal(t, history.DefaultDays, history.Days(nil))
	require.Equal(t, history.DefaultDays, history.Days(json.RawMessage(`{"send_rate":"1/s"}`)))
	require.Equal(t, 0, history.Days(json.RawMessage(`{"history_days":0}`)))
	require.Equal(t, 7, history.Days(json.RawMessage(`{"history_days":7}`)))
}
