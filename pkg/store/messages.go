package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Message statuses and their order; status only moves to a higher rank.
const (
	StatusQueued    = "queued"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusPlayed    = "played"
	StatusFailed    = "failed"
	StatusReceived  = "received"
)

// StatusRank orders statuses: a change to a lower or equal rank is ignored.
// failed ranks above sending only, so a failure never undoes a send.
var StatusRank = map[string]int{
	StatusQueued: 0, StatusSending: 1, StatusFailed: 2, StatusSent: 3,
	StatusDelivered: 4, StatusRead: 5, StatusPlayed: 6, StatusReceived: 0,
}

// ErrIdempotencyMismatch: the key was used before with another request.
var ErrIdempotencyMismatch = errors.New("store: idempotency key reused with a different request")

// Message is one row of the message log.
type Message struct {
	ID             string          `json:"id"`
	ChannelID      string          `json:"channel_id"`
	Direction      string          `json:"direction"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	RequestHash    []byte          `json:"-"`
	Chat           string          `json:"chat"`
	Sender         string          `json:"from,omitempty"`
	Type           string          `json:"type"`
	Body           json.RawMessage `json:"body"`
	Status         string          `json:"status"`
	Reason         string          `json:"reason,omitempty"`
	WAID           string          `json:"wa_id,omitempty"`
	SendEpoch      int64           `json:"-"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	SentAt         *time.Time      `json:"sent_at,omitempty"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
	ReadAt         *time.Time      `json:"read_at,omitempty"`
}

const messageCols = `id, channel_id, direction, coalesce(idempotency_key, ''), request_hash, chat, sender, type, body,
	status, reason, coalesce(wa_id, ''), coalesce(send_epoch, 0), created_at, updated_at, sent_at, delivered_at, read_at`

func scanMessage(row pgx.Row) (*Message, error) {
	var m Message
	err := row.Scan(&m.ID, &m.ChannelID, &m.Direction, &m.IdempotencyKey, &m.RequestHash, &m.Chat, &m.Sender, &m.Type,
		&m.Body, &m.Status, &m.Reason, &m.WAID, &m.SendEpoch, &m.CreatedAt, &m.UpdatedAt, &m.SentAt, &m.DeliveredAt, &m.ReadAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &m, err
}

// EnqueueMessage stores an outbound message as queued. With an idempotency
// key already used for the channel it returns the original message and
// created=false, or ErrIdempotencyMismatch when the request differs.
func (s *Store) EnqueueMessage(ctx context.Context, m *Message) (stored *Message, created bool, err error) {
	var key any
	if m.IdempotencyKey != "" {
		key = m.IdempotencyKey
	}
	row := s.Pool.QueryRow(ctx, `INSERT INTO messages (id, channel_id, direction, idempotency_key, request_hash, chat, type, body, status, status_rank, wa_id)
		VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7, 'queued', 0, nullif($8, ''))
		ON CONFLICT (channel_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING `+messageCols, m.ID, m.ChannelID, key, m.RequestHash, m.Chat, m.Type, m.Body, m.WAID)
	stored, err = scanMessage(row)
	if err == nil {
		return stored, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return nil, false, ErrNotFound // the channel is gone
		}
		return nil, false, fmt.Errorf("store: enqueue message: %w", err)
	}
	stored, err = scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages
		WHERE channel_id = $1 AND idempotency_key = $2`, m.ChannelID, m.IdempotencyKey))
	if err != nil {
		return nil, false, fmt.Errorf("store: read idempotent message: %w", err)
	}
	if m.RequestHash != nil && string(stored.RequestHash) != string(m.RequestHash) {
		return stored, false, ErrIdempotencyMismatch
	}
	return stored, false, nil
}

// Message returns one message of a channel.
func (s *Store) Message(ctx context.Context, channelID, id string) (*Message, error) {
	return scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel_id = $1 AND id = $2`, channelID, id))
}

// QueueDepth counts a channel's messages not yet sent.
func (s *Store) QueueDepth(ctx context.Context, channelID string) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE channel_id = $1 AND status IN ('queued', 'sending')`, channelID).Scan(&n)
	return n, err
}

// NextQueued returns the oldest message of a channel not yet sent, or ErrNotFound.
func (s *Store) NextQueued(ctx context.Context, channelID string) (*Message, error) {
	return scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages
		WHERE channel_id = $1 AND status IN ('queued', 'sending') ORDER BY created_at, id LIMIT 1`, channelID))
}

// ClaimSend marks a message sending under the fence's epoch. It returns
// the message's status before the claim, so the caller knows a previous
// owner may already have sent it (status sending).
func (s *Store) ClaimSend(ctx context.Context, f Fence, id string) (previous string, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := checkEpoch(ctx, tx, f); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `UPDATE messages m SET status = 'sending', status_rank = 1, send_epoch = $2, updated_at = now()
			FROM (SELECT id, status FROM messages WHERE id = $1 FOR UPDATE) old
			WHERE m.id = old.id AND old.status IN ('queued', 'sending') RETURNING old.status`, id, f.Epoch).Scan(&previous)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		return err
	})
	return previous, err
}

// Advance moves messages of a channel to status when that is a step
// forward, matching ids against wagate ids and WhatsApp ids. It returns
// the messages that changed, so each change is published once.
func (s *Store) Advance(ctx context.Context, channelID string, ids []string, status, reason, waID string, at time.Time) ([]*Message, error) {
	rank, ok := StatusRank[status]
	if !ok {
		return nil, fmt.Errorf("store: unknown status %q", status)
	}
	rows, err := s.Pool.Query(ctx, `UPDATE messages SET status = $3, status_rank = $4, reason = $5, updated_at = now(),
		wa_id = coalesce(nullif($6, ''), wa_id),
		sent_at = CASE WHEN $3 = 'sent' THEN $7 ELSE sent_at END,
		delivered_at = CASE WHEN $3 = 'delivered' OR ($4 > 4 AND delivered_at IS NULL) THEN $7 ELSE delivered_at END,
		read_at = CASE WHEN $3 IN ('read', 'played') AND read_at IS NULL THEN $7 ELSE read_at END
		WHERE channel_id = $1 AND direction = 'outbound' AND (id = ANY($2) OR wa_id = ANY($2)) AND status_rank < $4
		RETURNING `+messageCols, channelID, ids, status, rank, reason, waID, at)
	if err != nil {
		return nil, fmt.Errorf("store: advance messages: %w", err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// RecordInbound stores a received message once (by WhatsApp id); created
// is false for a duplicate.
func (s *Store) RecordInbound(ctx context.Context, m *Message) (created bool, err error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO messages (id, channel_id, direction, chat, sender, type, body, status, status_rank, wa_id, created_at)
		VALUES ($1, $2, 'inbound', $3, $4, $5, $6, 'received', 0, nullif($7, ''), $8)
		ON CONFLICT (channel_id, direction, wa_id) WHERE wa_id IS NOT NULL DO NOTHING`,
		m.ID, m.ChannelID, m.Chat, m.Sender, m.Type, m.Body, m.WAID, m.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("store: record inbound: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ResolveWAID maps a wagate message id to its WhatsApp id (other ids are
// returned unchanged).
func (s *Store) ResolveWAID(ctx context.Context, channelID, id string) string {
	var wa string
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(wa_id, '') FROM messages WHERE channel_id = $1 AND id = $2`, channelID, id).Scan(&wa); err != nil || wa == "" {
		return id
	}
	return wa
}

// MessageFilter narrows ListMessages; zero values mean no filter.
type MessageFilter struct {
	Chat, Direction, Status string
	Since, Until            time.Time
	// Before is a cursor: messages older than this id (ids sort by time).
	Before string
	Limit  int
}

// ListMessages returns a channel's messages, newest first.
func (s *Store) ListMessages(ctx context.Context, channelID string, f MessageFilter) ([]*Message, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+messageCols+` FROM messages
		WHERE channel_id = $1 AND ($2 = '' OR chat = $2) AND ($3 = '' OR direction = $3) AND ($4 = '' OR status = $4)
		  AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
		  AND ($7 = '' OR id < $7)
		ORDER BY id DESC LIMIT $8`,
		channelID, f.Chat, f.Direction, f.Status, nullTime(f.Since), nullTime(f.Until), f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// MessageByKey returns the message a channel stored under an idempotency key.
func (s *Store) MessageByKey(ctx context.Context, channelID, key string) (*Message, error) {
	return scanMessage(s.Pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages WHERE channel_id = $1 AND idempotency_key = $2`, channelID, key))
}
