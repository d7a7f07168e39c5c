package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/pkg/event"
)

// OutboxEvent is an event written in the transaction of the state change
// it announces, for the owner of Shard to publish.
type OutboxEvent struct {
	Shard int
	Event event.Envelope
}

// Unpublished is an outbox event not yet acknowledged by WA_EVT.
type Unpublished struct {
	Seq   int64
	Event event.Envelope
}

// Announce builds the events of the messages of groups[g] that changed in
// AdvanceAnnounced; they are written in the same transaction.
type Announce func(g int, changed []*Message) ([]OutboxEvent, error)

// insertOutbox writes evs in tx, in order, with one statement.
func insertOutbox(ctx context.Context, tx pgx.Tx, evs []OutboxEvent) error {
	if len(evs) == 0 {
		return nil
	}
	shards := make([]int32, len(evs))
	evIDs := make([]string, len(evs))
	bodies := make([][]byte, len(evs))
	for i, e := range evs {
		b, err := json.Marshal(e.Event)
		if err != nil {
			return fmt.Errorf("store: encode event %s: %w", e.Event.Type, err)
		}
		shards[i], evIDs[i], bodies[i] = int32(e.Shard), e.Event.ID, b
	}
	_, err := tx.Exec(ctx, `INSERT INTO outbox (shard, event_id, envelope)
		SELECT shard, event_id, envelope FROM unnest($1::integer[], $2::text[], $3::bytea[]) WITH ORDINALITY AS t(shard, event_id, envelope, n)
		ORDER BY n ON CONFLICT (event_id) DO NOTHING`, shards, evIDs, bodies)
	if err != nil {
		return fmt.Errorf("store: write outbox: %w", err)
	}
	return nil
}

// WriteOutbox stores events that announce no other row (inbound reactions,
// calls, group changes), so that they are published even when the worker
// dies right after receiving them.
func (s *Store) WriteOutbox(ctx context.Context, evs []OutboxEvent) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error { return insertOutbox(ctx, tx, evs) })
}

// UnpublishedEvents returns up to limit events of shard written at least
// minAge ago (by the database's clock) and after seq afterSeq, oldest first.
func (s *Store) UnpublishedEvents(ctx context.Context, shard int, minAge time.Duration, afterSeq int64, limit int) ([]Unpublished, error) {
	rows, err := s.Pool.Query(ctx, `SELECT seq, envelope FROM outbox
		WHERE shard = $1 AND seq > $2 AND created_at <= now() - make_interval(secs => $3) ORDER BY seq LIMIT $4`,
		shard, afterSeq, minAge.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: read outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unpublished, error) {
		var u Unpublished
		var body []byte
		if err := r.Scan(&u.Seq, &body); err != nil {
			return u, err
		}
		return u, json.Unmarshal(body, &u.Event)
	})
	if err != nil {
		return nil, fmt.Errorf("store: read outbox: %w", err)
	}
	return out, nil
}

// DeletePublished removes events WA_EVT acknowledged.
func (s *Store) DeletePublished(ctx context.Context, eventIDs []string) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM outbox WHERE event_id = ANY($1)`, eventIDs); err != nil {
		return fmt.Errorf("store: delete published events: %w", err)
	}
	return nil
}

// OutboxSize counts the events not yet published (all shards).
func (s *Store) OutboxSize(ctx context.Context) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n)
	return n, err
}

// StaleQueued returns the active channels of shard with a message queued
// for at least minAge (by the database's clock): their wake-up may have
// been lost. One probe of messages_queued_since per active channel of the
// shard (channels_shard finds them).
func (s *Store) StaleQueued(ctx context.Context, shard int, minAge time.Duration) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT c.id FROM channels c
		WHERE c.shard = $1 AND c.deleted_at IS NULL AND c.desired_state = 'running' AND c.state = 'active'
		  AND EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = c.id AND m.status = 'queued'
			AND m.created_at <= now() - make_interval(secs => $2))`,
		shard, minAge.Seconds())
	if err != nil {
		return nil, fmt.Errorf("store: stale queued messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: stale queued messages: %w", err)
	}
	return out, nil
}
