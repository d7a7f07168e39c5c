package store

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/pkg/secretbox"
)

// Desired states of a channel: what its owner should be doing.
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
	DesiredDeleted = "deleted"
)

// Channel is one linked (or to-be-linked) WhatsApp number.
type Channel struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	TokenHash []byte `json:"-"`
	// PreviousTokenHash is the token a rotation replaced; it is accepted
	// until PreviousTokenExpiresAt.
	PreviousTokenHash      []byte          `json:"-"`
	PreviousTokenExpiresAt *time.Time      `json:"-"`
	Shard                  int             `json:"shard"`
	Driver                 string          `json:"driver"`
	DesiredState           string          `json:"desired_state"`
	State                  string          `json:"state"`
	StateReason            string          `json:"state_reason"`
	StateChangedAt         time.Time       `json:"state_changed_at"`
	StateEpoch             int64           `json:"-"`
	JID                    string          `json:"jid,omitempty"`
	Phone                  string          `json:"phone,omitempty"`
	PushName               string          `json:"push_name,omitempty"`
	PairedAt               *time.Time      `json:"paired_at,omitempty"`
	Settings               json.RawMessage `json:"settings"`
	HealthBand             string          `json:"health_band,omitempty"`
	CreatedAt              time.Time       `json:"created_at"`
	UpdatedAt              time.Time       `json:"updated_at"`

	// StateExpiresAt is when the current state ends by itself (the end of
	// a temporary ban); nil for every other state.
	StateExpiresAt *time.Time `json:"state_expires_at,omitempty"`

	// Proxy is the channel's proxy URL with its password, sealed by
	// package secretbox; "" when none. settings.proxy shows it masked.
	Proxy string `json:"-"`
}

const channelCols = `id, name, token_hash, shard, driver, desired_state, state, state_reason,
	state_changed_at, state_epoch, coalesce(jid, ''), coalesce(phone, ''), coalesce(push_name, ''),
	paired_at, settings, health_band, created_at, updated_at, previous_token_hash, previous_token_expires_at,
	state_expires_at, proxy`

func scanChannel(row pgx.Row) (*Channel, error) {
	var c Channel
	err := row.Scan(&c.ID, &c.Name, &c.TokenHash, &c.Shard, &c.Driver, &c.DesiredState, &c.State,
		&c.StateReason, &c.StateChangedAt, &c.StateEpoch, &c.JID, &c.Phone, &c.PushName, &c.PairedAt,
		&c.Settings, &c.HealthBand, &c.CreatedAt, &c.UpdatedAt, &c.PreviousTokenHash, &c.PreviousTokenExpiresAt,
		&c.StateExpiresAt, &c.Proxy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &c, err
}

// CreateChannel inserts a new channel in state inactive.
func (s *Store) CreateChannel(ctx context.Context, c *Channel) error {
	if c.Settings == nil {
		c.Settings = json.RawMessage(`{}`)
	}
	row := s.Pool.QueryRow(ctx, `INSERT INTO channels (id, name, token_hash, shard, driver, settings, proxy)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+channelCols,
		c.ID, c.Name, c.TokenHash, c.Shard, c.Driver, c.Settings, c.Proxy)
	got, err := scanChannel(row)
	if err != nil {
		return fmt.Errorf("store: create channel: %w", err)
	}
	*c = *got
	return nil
}

// Channel returns a channel that is not deleted.
func (s *Store) Channel(ctx context.Context, id string) (*Channel, error) {
	return scanChannel(s.Pool.QueryRow(ctx, `SELECT `+channelCols+` FROM channels WHERE id = $1 AND deleted_at IS NULL`, id))
}

// ChannelAny returns a channel even when it is marked deleted (the worker
// needs it to finish the deletion).
func (s *Store) ChannelAny(ctx context.Context, id string) (*Channel, error) {
	return scanChannel(s.Pool.QueryRow(ctx, `SELECT `+channelCols+` FROM channels WHERE id = $1`, id))
}

// ListFilter narrows ListChannels. Zero values mean no filter.
type ListFilter struct {
	State string
	IDs   []string
	After string // cursor: list ids greater than this
	Limit int
}

// ListChannels returns channels ordered by id.
func (s *Store) ListChannels(ctx context.Context, f ListFilter) ([]*Channel, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+channelCols+` FROM channels
		WHERE deleted_at IS NULL AND ($1 = '' OR state = $1) AND ($2::text[] IS NULL OR id = ANY($2)) AND id > $3
		ORDER BY id LIMIT $4`, f.State, f.IDs, f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list channels: %w", err)
	}
	return collectChannels(rows)
}

// ShardChannels returns the channels of shard k whose desired state is
// running: the ones a new lease holder resumes.
func (s *Store) ShardChannels(ctx context.Context, k int) ([]*Channel, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+channelCols+` FROM channels
		WHERE shard = $1 AND deleted_at IS NULL AND desired_state = 'running' ORDER BY id`, k)
	if err != nil {
		return nil, fmt.Errorf("store: shard channels: %w", err)
	}
	return collectChannels(rows)
}

func collectChannels(rows pgx.Rows) ([]*Channel, error) {
	defer rows.Close()
	var out []*Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateChannel changes name and/or settings (nil leaves a field unchanged).
func (s *Store) UpdateChannel(ctx context.Context, id string, name *string, settings json.RawMessage) (*Channel, error) {
	return scanChannel(s.Pool.QueryRow(ctx, `UPDATE channels SET
		name = coalesce($2, name), settings = coalesce($3, settings), updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL RETURNING `+channelCols, id, name, settings))
}

// SetDesired records what the channel's owner should be doing. Deleting
// also marks the channel deleted so it disappears from the API at once; the
// owner removes the row after logging out.
func (s *Store) SetDesired(ctx context.Context, id, desired string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE channels SET desired_state = $2, updated_at = now(),
		deleted_at = CASE WHEN $2 = 'deleted' THEN now() ELSE deleted_at END
		WHERE id = $1 AND deleted_at IS NULL`, id, desired)
	if err != nil {
		return fmt.Errorf("store: set desired state: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Fence identifies the writer of channel state: the shard and the epoch its
// worker took for it.
type Fence struct {
	Shard  int
	Epoch  int64
	Worker string
}

// Transition is one change of connection state. Detail says more about
// the reason (the dial error while WhatsApp is unreachable); ExpiresAt is
// when the new state ends by itself (a temporary ban), nil otherwise.
type Transition struct {
	From, To, Reason string
	Detail           string
	At               time.Time
	ExpiresAt        *time.Time
}

// SetState moves a channel to a new state, records the transition in the
// connection history, and refuses the write with ErrStaleEpoch when the
// shard has a newer epoch than f's. Extra columns are set through opts.
func (s *Store) SetState(ctx context.Context, f Fence, channelID string, t Transition, opts ...StateOpt) error {
	var o stateOpts
	for _, opt := range opts {
		opt(&o)
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := checkEpoch(ctx, tx, f); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE channels SET state = $2, state_reason = $3, state_changed_at = $4,
			state_epoch = $5, updated_at = now(), state_expires_at = $11,
			jid = CASE WHEN $6 THEN nullif($7, '') ELSE jid END,
			phone = CASE WHEN $6 THEN nullif($8, '') ELSE phone END,
			push_name = CASE WHEN $6 THEN nullif($9, '') ELSE push_name END,
			paired_at = CASE WHEN $6 AND $7 <> '' THEN $4 WHEN $6 THEN NULL ELSE paired_at END,
			desired_state = CASE WHEN $10 <> '' AND desired_state <> 'deleted' THEN $10 ELSE desired_state END
			WHERE id = $1`,
			channelID, t.To, t.Reason, t.At, f.Epoch, o.setDevice, o.jid, o.phone, o.pushName, o.desired, t.ExpiresAt)
		if err != nil {
			return fmt.Errorf("store: set state: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if err := recordHistory(ctx, tx, f, channelID, t); err != nil {
			return err
		}
		return insertOutbox(ctx, tx, o.events)
	})
}

// recordHistory adds t to the channel's connection history. A transition
// identical to one of the last two rows (same from, to and reason: a retry
// loop such as error → connecting → error) bumps that row's count and
// last_at and takes its detail (the latest dial error) instead of adding a
// row, so a channel that cannot reach WhatsApp keeps two rows, not two per
// attempt.
func recordHistory(ctx context.Context, tx pgx.Tx, f Fence, channelID string, t Transition) error {
	tag, err := tx.Exec(ctx, `UPDATE connection_history SET count = count + 1, last_at = $6, epoch = $7, worker = $8, detail = $5
		WHERE id = (SELECT id FROM (SELECT id, from_state, to_state, reason FROM connection_history
			WHERE channel_id = $1 ORDER BY id DESC LIMIT 2) last
			WHERE from_state = $2 AND to_state = $3 AND reason = $4 LIMIT 1)`,
		channelID, t.From, t.To, t.Reason, t.Detail, t.At, f.Epoch, f.Worker)
	if err != nil {
		return fmt.Errorf("store: record history: %w", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO connection_history (channel_id, from_state, to_state, reason, detail, epoch, worker, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, channelID, t.From, t.To, t.Reason, t.Detail, f.Epoch, f.Worker, t.At)
	if err != nil {
		return fmt.Errorf("store: record history: %w", err)
	}
	return nil
}

type stateOpts struct {
	setDevice            bool
	jid, phone, pushName string
	desired              string
	events               []OutboxEvent
}

// StateOpt sets extra columns in SetState.
type StateOpt func(*stateOpts)

// WithDevice records the paired device (empty jid clears it, as after a logout).
func WithDevice(jid, phone, pushName string) StateOpt {
	return func(o *stateOpts) { o.setDevice, o.jid, o.phone, o.pushName = true, jid, phone, pushName }
}

// WithDesired also changes the desired state (e.g. stopped after the QR
// attempts run out, so nothing loops).
func WithDesired(desired string) StateOpt { return func(o *stateOpts) { o.desired = desired } }

// WithEvents writes the events that announce the transition in its
// transaction (the outbox).
func WithEvents(evs ...OutboxEvent) StateOpt {
	return func(o *stateOpts) { o.events = append(o.events, evs...) }
}

// DeleteChannel removes a channel marked deleted, fenced like SetState.
func (s *Store) DeleteChannel(ctx context.Context, f Fence, id string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := checkEpoch(ctx, tx, f); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM channels WHERE id = $1 AND desired_state = 'deleted'`, id)
		return err
	})
}

func checkEpoch(ctx context.Context, tx pgx.Tx, f Fence) error {
	var epoch int64
	err := tx.QueryRow(ctx, `SELECT epoch FROM shards WHERE shard = $1 FOR SHARE`, f.Shard).Scan(&epoch)
	if err != nil {
		return fmt.Errorf("store: read shard epoch: %w", err)
	}
	if epoch != f.Epoch {
		return fmt.Errorf("%w (shard %d at epoch %d, writer holds %d)", ErrStaleEpoch, f.Shard, epoch, f.Epoch)
	}
	return nil
}

// HistoryEntry is one row of a channel's connection history.
//
// Count is how many times this transition happened in a row (a retry loop
// coalesced into one row); LastAt is when it last did.
type HistoryEntry struct {
	From   string     `json:"from"`
	To     string     `json:"to"`
	Reason string     `json:"reason"`
	Detail string     `json:"detail,omitempty"`
	Epoch  int64      `json:"epoch"`
	Worker string     `json:"worker"`
	At     time.Time  `json:"at"`
	Count  int        `json:"count"`
	LastAt *time.Time `json:"last_at,omitempty"`
	ID     int64      `json:"id"`
}

// History returns the newest transitions of a channel first; before > 0
// pages to older entries.
func (s *Store) History(ctx context.Context, channelID string, before int64, limit int) ([]HistoryEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, from_state, to_state, reason, detail, epoch, worker, at, count, last_at
		FROM connection_history WHERE channel_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`,
		channelID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		err := r.Scan(&h.ID, &h.From, &h.To, &h.Reason, &h.Detail, &h.Epoch, &h.Worker, &h.At, &h.Count, &h.LastAt)
		return h, err
	})
}

// TokenHashes are the token hashes a channel accepts: its token's, and
// until PreviousUntil the one its last rotation replaced.
type TokenHashes struct {
	Current       []byte
	Previous      []byte
	PreviousUntil *time.Time
}

// Accepts reports whether hash is the current token's, or the previous
// one's before it expires.
func (h TokenHashes) Accepts(hash []byte, now time.Time) bool {
	if subtle.ConstantTimeCompare(hash, h.Current) == 1 {
		return true
	}
	return h.Previous != nil && h.PreviousUntil != nil && now.Before(*h.PreviousUntil) &&
		subtle.ConstantTimeCompare(hash, h.Previous) == 1
}

// Tokens returns the token hashes c accepts.
func (c *Channel) Tokens() TokenHashes {
	return TokenHashes{Current: c.TokenHash, Previous: c.PreviousTokenHash, PreviousUntil: c.PreviousTokenExpiresAt}
}

// ChannelTokenHashes returns the token hashes of a live channel (for
// httpapi.Authenticator).
func (s *Store) ChannelTokenHashes(ctx context.Context, id string) (TokenHashes, bool, error) {
	var h TokenHashes
	err := s.Pool.QueryRow(ctx, `SELECT token_hash, previous_token_hash, previous_token_expires_at
		FROM channels WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&h.Current, &h.Previous, &h.PreviousUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("store: token hash: %w", err)
	}
	return h, true, nil
}

// RotateChannelToken makes newHash the channel's token hash; the replaced
// one stays valid for grace (none when grace is 0). It returns when the
// replaced token expires, nil without grace.
func (s *Store) RotateChannelToken(ctx context.Context, id string, newHash []byte, grace time.Duration) (*time.Time, error) {
	var until *time.Time
	err := s.Pool.QueryRow(ctx, `UPDATE channels SET
		previous_token_hash = CASE WHEN $3::bigint > 0 THEN token_hash END,
		previous_token_expires_at = CASE WHEN $3::bigint > 0 THEN now() + $3::bigint * interval '1 microsecond' END,
		token_hash = $2, updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL RETURNING previous_token_expires_at`, id, newHash, grace.Microseconds()).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: rotate token: %w", err)
	}
	return until, nil
}

// ResealProxies seals with box's current key every channel proxy sealed
// with a previous key (after a rotation of WAGATE_SECRET_KEY) and returns
// how many it changed. Like webhook.SealSecrets it runs at the start of
// every process holding the key, replaces a row only if it still holds
// what was read, and fails on a proxy sealed with a key the box does not
// hold (add that key to WAGATE_SECRET_KEY_PREVIOUS).
func (s *Store) ResealProxies(ctx context.Context, box *secretbox.Box) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, proxy FROM channels WHERE proxy <> '' AND proxy NOT LIKE $1`, box.CurrentPrefix()+"%")
	if err != nil {
		return 0, fmt.Errorf("store: find proxies to reseal: %w", err)
	}
	type row struct{ id, sealed string }
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.sealed)
	})
	if err != nil {
		return 0, fmt.Errorf("store: find proxies to reseal: %w", err)
	}
	changed := 0
	for _, r := range todo {
		plain, err := box.Open(r.sealed)
		if err != nil {
			return changed, fmt.Errorf("store: proxy of channel %s: %w (add the key it was sealed with to WAGATE_SECRET_KEY_PREVIOUS)", r.id, err)
		}
		sealed, err := box.Seal(plain)
		if err != nil {
			return changed, err
		}
		tag, err := s.Pool.Exec(ctx, `UPDATE channels SET proxy = $2 WHERE id = $1 AND proxy = $3`, r.id, sealed, r.sealed)
		if err != nil {
			return changed, fmt.Errorf("store: reseal the proxy of channel %s: %w", r.id, err)
		}
		changed += int(tag.RowsAffected())
	}
	return changed, nil
}
