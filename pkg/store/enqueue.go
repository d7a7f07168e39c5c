package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// EnqueueMessages stores outbound messages as queued with one statement:
// the API's accept path groups the sends that arrive together, so a burst
// costs one commit instead of one per message.
//
// It returns, for each message of ms in order, its created_at when the
// row was inserted, or the zero time when it was not: its idempotency key
// was used before (or twice in the batch). The caller resolves those with
// EnqueueMessage, which knows how to answer a replay. A batch naming a
// channel that is gone fails as a whole with ErrNotFound; the caller then
// enqueues the messages one by one to tell which one.
func (s *Store) EnqueueMessages(ctx context.Context, ms []*Message) ([]time.Time, error) {
	n := len(ms)
	var (
		id, channel, chat, typ = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		key                    = make([]*string, n)
		hash                   = make([][]byte, n)
		body                   = make([]string, n)
	)
	for i, m := range ms {
		id[i], channel[i], chat[i], typ[i], hash[i], body[i] = m.ID, m.ChannelID, m.Chat, m.Type, m.RequestHash, string(m.Body)
		if m.IdempotencyKey != "" {
			key[i] = &ms[i].IdempotencyKey
		}
	}
	rows, err := s.Pool.Query(ctx, `INSERT INTO messages (id, channel_id, direction, idempotency_key, request_hash, chat, type, body, status, status_rank)
		SELECT id, channel_id, 'outbound', key, hash, chat, type, body::jsonb, 'queued', 0
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[])
			AS t(id, channel_id, key, hash, chat, type, body)
		ON CONFLICT (channel_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id, created_at`, id, channel, key, hash, chat, typ, body)
	if err != nil {
		return nil, fmt.Errorf("store: enqueue messages: %w", err)
	}
	created := make(map[string]time.Time, n)
	for rows.Next() {
		var (
			mid string
			at  time.Time
		)
		if err := rows.Scan(&mid, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: enqueue messages: %w", err)
		}
		created[mid] = at
	}
	if err := rows.Err(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return nil, ErrNotFound // a channel of the batch is gone
		}
		return nil, fmt.Errorf("store: enqueue messages: %w", err)
	}
	out := make([]time.Time, n)
	for i, m := range ms {
		out[i] = created[m.ID]
	}
	return out, nil
}
