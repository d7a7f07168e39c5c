package store

import (
	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"time"
)

// Usage counters of one day.
type Usage struct {
	Day         string `json:"day"`
	Sent        int    `json:"sent"`
	Delivered   int    `json:"delivered"`
	Read        int    `json:"read"`
	Failed      int    `json:"failed"`
	Received    int    `json:"received"`
	Disconnects int    `json:"disconnects"`
}

var usageColumns = map[string]bool{"sent": true, "delivered": true, "read": true, "failed": true, "received": true, "disconnects": true}

// UsageDays returns the last days of usage, oldest first, with zero days filled in.
func (s *Store) UsageDays(ctx context.Context, channelID string, days int, now time.Time) ([]Usage, error) {
	rows, err := s.Pool.Query(ctx, `SELECT d::date::text, coalesce(u.sent, 0), coalesce(u.delivered, 0), coalesce(u.read, 0),
			coalesce(u.failed, 0), coalesce(u.received, 0), coalesce(u.disconnects, 0)
		FROM generate_series($2::date - ($3 - 1), $2::date, interval '1 day') d
		LEFT JOIN usage_daily u ON u.channel_id = $1 AND u.day = d::date
		ORDER BY d`, channelID, now.UTC().Format(time.DateOnly), days)
	if err != nil {
		return nil, fmt.Errorf("store: usage: %w", err)
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var u Usage
		if err := rows.Scan(&u.Day, &u.Sent, &u.Delivered, &u.Read, &u.Failed, &u.Received, &u.Disconnects); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ActiveShare returns the share of the window [now-window, now] the
// channel spent active, from its connection history, and how many times it
// left active.
func (s *Store) ActiveShare(ctx context.Context, channelID string, window time.Duration, now time.Time) (share float64, drops int, err error) {
	from := now.Add(-window)
	// The state before the window is read first: a second query while rows
	// holds a connection would need two at once, and enough concurrent
	// callers exhaust the pool and wait on each other for ever.
	var prevState string
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce((SELECT to_state FROM connection_history WHERE channel_id = $1 AND at < $2 ORDER BY id DESC LIMIT 1), '')`,
		channelID, from).Scan(&prevState); err != nil {
		return 0, 0, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT to_state, at FROM connection_history
		WHERE channel_id = $1 AND at >= $2 ORDER BY id`, channelID, from)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	var active time.Duration
	cursor := from
	for rows.Next() {
		var to string
		var at time.Time
		if err := rows.Scan(&to, &at); err != nil {
			return 0, 0, err
		}
		if prevState == "active" {
			active += at.Sub(cursor)
			if to != "active" {
				drops++
			}
		}
		prevState, cursor = to, at
	}
	if prevState == "active" {
		active += now.Sub(cursor)
	}
	return float64(active) / float64(window), drops, rows.Err()
}

// SetHealthBand records a channel's health band and reports whether it
// changed; when it did, the events that announce it are written in the
// same transaction.
func (s *Store) SetHealthBand(ctx context.Context, channelID, band string, evs ...OutboxEvent) (bool, error) {
	changed := false
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE channels SET health_band = $2 WHERE id = $1 AND health_band <> $2`, channelID, band)
		if err != nil {
			return fmt.Errorf("store: set health band: %w", err)
		}
		if changed = tag.RowsAffected() == 1; !changed {
			return nil
		}
		return insertOutbox(ctx, tx, evs)
	})
	return changed && err == nil, err
}

// BannedSince reports whether the channel was banned since t.
func (s *Store) BannedSince(ctx context.Context, channelID string, t time.Time) (bool, error) {
	var b bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM connection_history WHERE channel_id = $1 AND to_state = 'banned' AND at >= $2)`,
		channelID, t).Scan(&b)
	return b, err
}

// FirstActive returns when the channel first became active (nil: never).
func (s *Store) FirstActive(ctx context.Context, channelID string) (*time.Time, error) {
	var t *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT min(at) FROM connection_history WHERE channel_id = $1 AND to_state = 'active'`, channelID).Scan(&t)
	return t, err
}

// UsageDelta names one counter of one channel's day (YYYY-MM-DD, UTC).
type UsageDelta struct {
	ChannelID, Counter, Day string
}

// AddUsage adds counts to many counters in one round trip and one commit.
// Counters of channels deleted meanwhile are dropped.
func (s *Store) AddUsage(ctx context.Context, deltas map[UsageDelta]int) error {
	batch := &pgx.Batch{}
	for k, n := range deltas {
		if !usageColumns[k.Counter] {
			return fmt.Errorf("store: unknown usage counter %q", k.Counter)
		}
		batch.Queue(`INSERT INTO usage_daily (channel_id, day, `+k.Counter+`)
			SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM channels WHERE id = $1)
			ON CONFLICT (channel_id, day) DO UPDATE SET `+k.Counter+` = usage_daily.`+k.Counter+` + $3`,
			k.ChannelID, k.Day, n)
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
}
