package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The chats table (migration 0008, package chats) follows the message log:
// the statements below run in the transaction that records a message, so a
// chat's last message and unread count never disagree with the log. The
// rest of the table (archived, pinned, muted, read) is package chats'.

// touchChatInbound keeps the chat of an inbound message just recorded: it
// becomes the chat's last message unless the chat has a newer one; it
// counts as unread unless this account sent it from the phone, which
// reads the chat as WhatsApp does; a direct chat takes the sender's push
// name.
func touchChatInbound(ctx context.Context, tx pgx.Tx, m *Message) error {
	if err := mergeLIDChat(ctx, tx, m.ChannelID, m.Chat, m.ChatLID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO chats AS c (channel_id, chat, chat_lid, name, last_message_id, last_at, unread_count)
		SELECT $1, $2, $3, CASE WHEN $2 NOT LIKE '%@g.us' AND NOT fm THEN coalesce($6::jsonb->>'push_name', '') ELSE '' END,
			$4, $5, CASE WHEN fm THEN 0 ELSE 1 END
		FROM (SELECT coalesce(($6::jsonb->>'from_me')::boolean, false) AS fm) x
		ON CONFLICT (channel_id, chat) DO UPDATE SET
			chat_lid = CASE WHEN excluded.chat_lid <> '' THEN excluded.chat_lid ELSE c.chat_lid END,
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE c.name END,
			last_message_id = CASE WHEN excluded.last_at >= c.last_at THEN excluded.last_message_id ELSE c.last_message_id END,
			last_at = greatest(c.last_at, excluded.last_at),
			unread_count = CASE WHEN excluded.unread_count = 1 THEN c.unread_count + 1
				WHEN excluded.last_at >= c.last_at THEN 0 ELSE c.unread_count END,
			updated_at = now()`,
		m.ChannelID, m.Chat, m.ChatLID, m.ID, m.CreatedAt, m.Body)
	if err != nil {
		return fmt.Errorf("store: keep the chat of an inbound message: %w", err)
	}
	return nil
}

// mergeLIDChat re-keys the chat row recorded under a bare LID (its number
// unknown then) to chat, the phone-number key WhatsApp has now given for
// that LID, in the caller's transaction: one conversation keeps one row,
// with the unread counts added, the newer last message, and the flags of
// either. Nothing happens when chat is the LID itself or no such row
// exists.
func mergeLIDChat(ctx context.Context, tx pgx.Tx, channelID, chat, lid string) error {
	if lid == "" || chat == lid {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH old AS (
			DELETE FROM chats WHERE channel_id = $1 AND chat = $3 RETURNING *)
		INSERT INTO chats AS c (channel_id, chat, chat_lid, name, last_message_id, last_at, unread_count, archived, pinned, muted_until)
		SELECT channel_id, $2, $3, name, last_message_id, last_at, unread_count, archived, pinned, muted_until FROM old
		ON CONFLICT (channel_id, chat) DO UPDATE SET
			chat_lid = excluded.chat_lid,
			name = CASE WHEN c.name <> '' THEN c.name ELSE excluded.name END,
			last_message_id = CASE WHEN excluded.last_at > c.last_at THEN excluded.last_message_id ELSE c.last_message_id END,
			last_at = greatest(c.last_at, excluded.last_at),
			unread_count = c.unread_count + excluded.unread_count,
			archived = c.archived OR excluded.archived,
			pinned = c.pinned OR excluded.pinned,
			muted_until = greatest(c.muted_until, excluded.muted_until),
			updated_at = now()`, channelID, chat, lid)
	if err != nil {
		return fmt.Errorf("store: merge the LID chat %s into %s: %w", lid, chat, err)
	}
	return nil
}

// touchChatsSent keeps the chats of outbound messages that just became
// sent: each becomes its chat's last message unless the chat has a newer
// one.
func touchChatsSent(ctx context.Context, tx pgx.Tx, msgIDs []string) error {
	if len(msgIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO chats AS c (channel_id, chat, chat_lid, last_message_id, last_at)
		SELECT DISTINCT ON (channel_id, chat) channel_id, chat, chat_lid, id, coalesce(sent_at, updated_at)
		FROM messages WHERE id = ANY($1::text[])
		ORDER BY channel_id, chat, coalesce(sent_at, updated_at) DESC, id DESC
		ON CONFLICT (channel_id, chat) DO UPDATE SET
			chat_lid = CASE WHEN excluded.chat_lid <> '' THEN excluded.chat_lid ELSE c.chat_lid END,
			last_message_id = CASE WHEN excluded.last_at >= c.last_at THEN excluded.last_message_id ELSE c.last_message_id END,
			last_at = greatest(c.last_at, excluded.last_at),
			updated_at = now()`, msgIDs)
	if err != nil {
		return fmt.Errorf("store: keep the chats of sent messages: %w", err)
	}
	return nil
}

// WriteAnnounced runs write in a transaction and stores the events it
// returns in the outbox in the same transaction: a feature's state change
// (a chat's archive flag, say) and the event announcing it land together
// or not at all. write may return no events (nothing changed).
func (s *Store) WriteAnnounced(ctx context.Context, write func(tx pgx.Tx) ([]OutboxEvent, error)) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		evs, err := write(tx)
		if err != nil {
			return err
		}
		return insertOutbox(ctx, tx, evs)
	})
}

// MessagesByID returns the messages of a channel with the given ids, by
// id; ids it does not hold are absent.
func (s *Store) MessagesByID(ctx context.Context, channelID string, msgIDs []string) (map[string]*Message, error) {
	out := make(map[string]*Message, len(msgIDs))
	if len(msgIDs) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+messageCols+` FROM messages WHERE channel_id = $1 AND id = ANY($2::text[])`, channelID, msgIDs)
	if err != nil {
		return nil, fmt.Errorf("store: read messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read messages: %w", err)
		}
		out[m.ID] = m
	}
	return out, rows.Err()
}
