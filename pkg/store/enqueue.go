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
		file                   = newOutboundFiles(n)
	)
	for i, m := range ms {
		id[i], channel[i], chat[i], typ[i], hash[i], body[i] = m.ID, m.ChannelID, m.Chat, m.Type, m.RequestHash, string(m.Body)
		if m.IdempotencyKey != "" {
			key[i] = &ms[i].IdempotencyKey
		}
		file.add(i, m)
	}
	// The file of a message sent as base64 (stored by the API before)
	// gets its media row in the same statement as the message, and only
	// when the message is inserted.
	rows, err := s.Pool.Query(ctx, `WITH ins AS (
			INSERT INTO messages (id, channel_id, direction, idempotency_key, request_hash, chat, type, body, status, status_rank)
			SELECT id, channel_id, 'outbound', key, hash, chat, type, body::jsonb, 'queued', 0
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[])
				AS t(id, channel_id, key, hash, chat, type, body)
			ON CONFLICT (channel_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING id, channel_id, created_at),
		files AS (`+insertOutboundFiles+`)
		SELECT id, created_at FROM ins`, id, channel, key, hash, chat, typ, body,
		file.id, file.kind, file.mime, file.name, file.key, file.sha, file.size)
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

// outboundFiles are the media rows of a batch of outbound messages, as
// columns (insertOutboundFiles reads them as $8–$14).
type outboundFiles struct {
	id, kind, mime, name, key, sha []string
	size                           []int64
}

func newOutboundFiles(n int) *outboundFiles {
	return &outboundFiles{id: make([]string, 0, n)}
}

func (f *outboundFiles) add(_ int, m *Message) {
	d := m.Media
	if d == nil {
		return
	}
	f.id = append(f.id, m.ID)
	f.kind = append(f.kind, d.Kind)
	f.mime = append(f.mime, SanitizeText(d.MIME))
	f.name = append(f.name, SanitizeText(d.FileName))
	f.key = append(f.key, d.StorageKey)
	f.sha = append(f.sha, d.SHA256)
	f.size = append(f.size, d.Size)
}

// insertOutboundFiles inserts the stored files of the messages the CTE
// ins inserted.
const insertOutboundFiles = `INSERT INTO media (message_id, channel_id, kind, mime, file_name, status, storage_key, sha256, size, file_length, stored_at)
			SELECT f.id, ins.channel_id, f.kind, f.mime, f.name, 'stored', f.key, f.sha, f.size, f.size, now()
			FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[])
				AS f(id, kind, mime, name, key, sha, size)
			JOIN ins ON ins.id = f.id`
