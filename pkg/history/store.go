package history

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
)

// Result counts what Import did with a conversation.
type Result struct {
	// Messages newly recorded; Skipped: outside the window or not
	// recordable (Conversation.Skipped); messages already in the log count
	// in neither.
	Messages, Skipped int
}

// Announce builds the event of a message Import recorded.
type Announce func(m *store.Message) (store.OutboxEvent, error)

// Import records a conversation in one transaction: its messages sent at
// or after since (once each, by WhatsApp id), the chat's state (no
// chat.updated: it is not a change), the chat's last message when it is
// newer than what the chat has, and the events announce builds for the
// messages newly recorded.
func Import(ctx context.Context, st *store.Store, channelID string, c Conversation, since time.Time, announce Announce) (Result, error) {
	res := Result{Skipped: c.Skipped}
	var msgs []*store.Message
	for _, hm := range c.Messages {
		if hm.ID == "" || hm.Timestamp.Before(since) {
			res.Skipped++
			continue
		}
		// Ids sort by time: an old message takes its place in the log.
		m := &store.Message{ID: ids.Message + ids.At(hm.Timestamp), ChannelID: channelID, Direction: "inbound", Chat: c.Chat, ChatLID: c.ChatLID,
			Sender: hm.From, SenderLID: hm.FromLID, Type: hm.Type, Body: hm.Data, Status: store.StatusReceived, WAID: hm.ID, CreatedAt: hm.Timestamp.UTC()}
		if hm.FromMe {
			m.Direction, m.Status = "outbound", store.StatusSent
		}
		store.SanitizeMessage(m)
		msgs = append(msgs, m)
	}
	err := st.WriteAnnounced(ctx, func(tx pgx.Tx) ([]store.OutboxEvent, error) {
		res.Messages = 0
		created, err := insert(ctx, tx, msgs)
		if err != nil {
			return nil, err
		}
		at := time.Now().UTC()
		if len(c.Messages) > 0 {
			at = c.Messages[len(c.Messages)-1].Timestamp
		}
		if _, err := chats.Record(ctx, tx, channelID, c.change(at)); err != nil {
			return nil, err
		}
		var evs []store.OutboxEvent
		var newest *store.Message
		for _, m := range created {
			res.Messages++
			if newest == nil || !m.CreatedAt.Before(newest.CreatedAt) {
				newest = m
			}
			ev, err := announce(m)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
		if newest != nil {
			if _, err := tx.Exec(ctx, `UPDATE chats SET last_message_id = $3, last_at = $4, updated_at = now()
				WHERE channel_id = $1 AND (chat = $2 OR chat_lid = $2) AND (last_message_id = '' OR last_at <= $4)`,
				channelID, c.Chat, newest.ID, newest.CreatedAt); err != nil {
				return nil, fmt.Errorf("history: keep the chat's last message: %w", err)
			}
		}
		return evs, nil
	})
	return res, err
}

// insert records messages not yet in the log and returns those it
// recorded.
func insert(ctx context.Context, tx pgx.Tx, msgs []*store.Message) ([]*store.Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := len(msgs)
	var (
		id, ch, dir, chat, chatLID, sender, senderLID, typ, body, status, wa = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at = make([]time.Time, n)
	)
	for i, m := range msgs {
		id[i], ch[i], dir[i], chat[i], chatLID[i], sender[i], senderLID[i] = m.ID, m.ChannelID, m.Direction, m.Chat, m.ChatLID, m.Sender, m.SenderLID
		typ[i], body[i], status[i], wa[i], at[i] = m.Type, string(m.Body), m.Status, m.WAID, m.CreatedAt
		if len(m.Body) == 0 || !json.Valid(m.Body) {
			body[i] = "{}"
		}
	}
	rows, err := tx.Query(ctx, `INSERT INTO messages (id, channel_id, direction, chat, chat_lid, sender, sender_lid, type, body, status, status_rank,
			wa_id, created_at, updated_at, sent_at)
		SELECT id, ch, dir, chat, chat_lid, sender, sender_lid, typ, body::jsonb, status, CASE WHEN dir = 'outbound' THEN 3 ELSE 0 END,
			wa, at, at, CASE WHEN dir = 'outbound' THEN at END
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
			AS t(id, ch, dir, chat, chat_lid, sender, sender_lid, typ, body, status, wa, at)
		ON CONFLICT (channel_id, direction, wa_id) WHERE wa_id IS NOT NULL DO NOTHING
		RETURNING id`, id, ch, dir, chat, chatLID, sender, senderLID, typ, body, status, wa, at)
	if err != nil {
		return nil, fmt.Errorf("history: record messages: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("history: record messages: %w", err)
	}
	byID := make(map[string]*store.Message, n)
	for _, m := range msgs {
		byID[m.ID] = m
	}
	out := make([]*store.Message, 0, len(got))
	for _, g := range got {
		out = append(out, byID[g])
	}
	return out, nil
}
