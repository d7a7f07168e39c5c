package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Media statuses.
const (
	MediaPending = "pending"
	MediaStored  = "stored"
	MediaExpired = "expired"
	MediaFailed  = "failed"
)

// Media is the media file of a message: how to fetch it from WhatsApp and
// where wagate keeps it (migration 0007_media.sql).
type Media struct {
	MessageID     string
	ChannelID     string
	Kind          string
	DirectPath    string
	MediaKey      []byte
	FileEncSHA256 []byte
	FileSHA256    []byte
	FileLength    int64
	MIME          string
	FileName      string
	Thumbnail     []byte
	Seconds       int
	Waveform      []byte
	Status        string
	Wanted        bool
	Attempts      int
	Error         string
	StorageKey    string
	SHA256        string
	Size          int64
	CreatedAt     time.Time
	StoredAt      *time.Time

	// Of the message (read, not written): WhatsApp's id, chat and author as
	// WhatsApp addressed them (the LIDs when it used LIDs), and whether
	// this account sent it.
	WAID   string
	Chat   string
	Sender string
	FromMe bool
}

const mediaCols = `d.message_id, d.channel_id, d.kind, d.direct_path, d.media_key, d.file_enc_sha256, d.file_sha256, d.file_length,
	d.mime, d.file_name, d.thumbnail, d.seconds, d.waveform, d.status, d.wanted, d.attempts, d.error, d.storage_key, d.sha256, d.size, d.created_at, d.stored_at,
	coalesce(m.wa_id, ''),
	CASE WHEN m.chat_lid <> '' THEN m.chat_lid ELSE m.chat END, CASE WHEN m.sender_lid <> '' THEN m.sender_lid ELSE m.sender END, m.direction = 'outbound'`

func scanMedia(row pgx.Row) (*Media, error) {
	var d Media
	err := row.Scan(&d.MessageID, &d.ChannelID, &d.Kind, &d.DirectPath, &d.MediaKey, &d.FileEncSHA256, &d.FileSHA256, &d.FileLength,
		&d.MIME, &d.FileName, &d.Thumbnail, &d.Seconds, &d.Waveform, &d.Status, &d.Wanted, &d.Attempts, &d.Error, &d.StorageKey, &d.SHA256, &d.Size, &d.CreatedAt, &d.StoredAt,
		&d.WAID, &d.Chat, &d.Sender, &d.FromMe)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &d, err
}

// insertMedia adds the media row of a message in tx.
func insertMedia(ctx context.Context, tx pgx.Tx, d *Media) error {
	status := d.Status
	if status == "" {
		status = MediaPending
	}
	var storedAt any
	if status == MediaStored {
		storedAt = time.Now()
	}
	_, err := tx.Exec(ctx, `INSERT INTO media (message_id, channel_id, kind, direct_path, media_key, file_enc_sha256, file_sha256, file_length,
			mime, file_name, thumbnail, status, wanted, storage_key, sha256, size, stored_at, seconds, waveform)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (message_id) DO NOTHING`,
		d.MessageID, d.ChannelID, d.Kind, d.DirectPath, d.MediaKey, d.FileEncSHA256, d.FileSHA256, d.FileLength,
		SanitizeText(d.MIME), SanitizeText(d.FileName), d.Thumbnail, status, d.Wanted, d.StorageKey, d.SHA256, d.Size, storedAt, d.Seconds, d.Waveform)
	if err != nil {
		return fmt.Errorf("store: record media: %w", err)
	}
	return nil
}

// recordSentMedia keeps, in tx, the file of a message the channel sent as
// WhatsApp's upload describes it (d: the keys, MIME type, thumbnail,
// seconds, waveform). A file the channel stored before sending keeps its
// status and storage; one it did not store gets a pending row, fetched
// from WhatsApp with these keys when asked for.
func recordSentMedia(ctx context.Context, tx pgx.Tx, d *Media) error {
	_, err := tx.Exec(ctx, `INSERT INTO media (message_id, channel_id, kind, direct_path, media_key, file_enc_sha256, file_sha256, file_length,
			mime, file_name, thumbnail, seconds, waveform)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (message_id) DO UPDATE SET kind = excluded.kind, direct_path = excluded.direct_path, media_key = excluded.media_key,
			file_enc_sha256 = excluded.file_enc_sha256, file_sha256 = excluded.file_sha256, file_length = excluded.file_length,
			mime = excluded.mime, file_name = CASE WHEN excluded.file_name <> '' THEN excluded.file_name ELSE media.file_name END,
			thumbnail = excluded.thumbnail, seconds = excluded.seconds, waveform = excluded.waveform, updated_at = now()`,
		d.MessageID, d.ChannelID, d.Kind, d.DirectPath, d.MediaKey, d.FileEncSHA256, d.FileSHA256, d.FileLength,
		SanitizeText(d.MIME), SanitizeText(d.FileName), d.Thumbnail, d.Seconds, d.Waveform)
	if err != nil {
		return fmt.Errorf("store: record sent media: %w", err)
	}
	return nil
}

// SentFileStored records the file of a message to send, fetched from its
// URL into the media store (d: status stored, storage key, digest, size,
// MIME type, file name).
func (s *Store) SentFileStored(ctx context.Context, d *Media) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO media (message_id, channel_id, kind, mime, file_name, status, storage_key, sha256, size, file_length, stored_at)
		VALUES ($1, $2, $3, $4, $5, 'stored', $6, $7, $8, $8, now())
		ON CONFLICT (message_id) DO UPDATE SET status = 'stored', storage_key = excluded.storage_key, sha256 = excluded.sha256,
			size = excluded.size, mime = excluded.mime, file_name = excluded.file_name, stored_at = now(), error = '', updated_at = now()`,
		d.MessageID, d.ChannelID, d.Kind, SanitizeText(d.MIME), SanitizeText(d.FileName), d.StorageKey, d.SHA256, d.Size)
	if err != nil {
		return fmt.Errorf("store: sent file stored: %w", err)
	}
	return nil
}

// Media returns the media of a channel's message.
func (s *Store) Media(ctx context.Context, channelID, messageID string) (*Media, error) {
	return scanMedia(s.Pool.QueryRow(ctx, `SELECT `+mediaCols+` FROM media d JOIN messages m ON m.id = d.message_id
		WHERE d.channel_id = $1 AND d.message_id = $2`, channelID, messageID))
}

// MediaOf returns the media of the given messages of a channel, by message id.
func (s *Store) MediaOf(ctx context.Context, channelID string, messageIDs []string) (map[string]*Media, error) {
	out := map[string]*Media{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+mediaCols+` FROM media d JOIN messages m ON m.id = d.message_id
		WHERE d.channel_id = $1 AND d.message_id = ANY($2)`, channelID, messageIDs)
	if err != nil {
		return nil, fmt.Errorf("store: media of messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanMedia(rows)
		if err != nil {
			return nil, fmt.Errorf("store: media of messages: %w", err)
		}
		out[d.MessageID] = d
	}
	return out, rows.Err()
}

// WantMedia marks the media of a message wanted (fetched by the channel's
// owner as soon as it can) and returns it.
func (s *Store) WantMedia(ctx context.Context, channelID, messageID string) (*Media, error) {
	_, err := s.Pool.Exec(ctx, `UPDATE media SET wanted = true, next_attempt_at = least(next_attempt_at, now()), updated_at = now()
		WHERE channel_id = $1 AND message_id = $2 AND status = 'pending' AND NOT wanted`, channelID, messageID)
	if err != nil {
		return nil, fmt.Errorf("store: want media: %w", err)
	}
	return s.Media(ctx, channelID, messageID)
}

// DueMedia lists wanted pending media of the shard's active channels whose
// next attempt is due, oldest first.
func (s *Store) DueMedia(ctx context.Context, shard, limit int) ([]*Media, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+mediaCols+` FROM media d JOIN messages m ON m.id = d.message_id
		JOIN channels c ON c.id = d.channel_id
		WHERE c.shard = $1 AND c.deleted_at IS NULL AND c.state = 'active'
		  AND d.status = 'pending' AND d.wanted AND d.next_attempt_at <= now()
		ORDER BY d.next_attempt_at LIMIT $2`, shard, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due media: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Media, error) { return scanMedia(r) })
	if err != nil {
		return nil, fmt.Errorf("store: due media: %w", err)
	}
	return out, nil
}

// MediaStoredAs records a fetched file (pending → stored) with the events
// that announce it, in one transaction; stored is false when the media
// was not pending any more (stored by an earlier attempt: nothing is
// written then).
func (s *Store) MediaStoredAs(ctx context.Context, channelID, messageID, key, sha256 string, size int64, evs ...OutboxEvent) (stored bool, err error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: media stored: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	tag, err := tx.Exec(ctx, `UPDATE media SET status = 'stored', storage_key = $3, sha256 = $4, size = $5, stored_at = now(),
			error = '', updated_at = now()
		WHERE channel_id = $1 AND message_id = $2 AND status = 'pending'`, channelID, messageID, key, sha256, size)
	if err != nil {
		return false, fmt.Errorf("store: media stored: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := insertOutbox(ctx, tx, evs); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: media stored: %w", err)
	}
	return true, nil
}

// MediaAttemptFailed counts a failed fetch: the next one is due after
// retryIn; a final status (expired or failed; "" for none) ends the
// attempts, with the events announcing it. changed is false when the
// media was not pending any more (nothing is written then).
func (s *Store) MediaAttemptFailed(ctx context.Context, channelID, messageID, reason string, retryIn time.Duration, final string, evs ...OutboxEvent) (changed bool, err error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: media attempt: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	status := MediaPending
	if final != "" {
		status = final
	}
	tag, err := tx.Exec(ctx, `UPDATE media SET attempts = attempts + 1, error = $3, status = $4,
			next_attempt_at = now() + make_interval(secs => $5), updated_at = now()
		WHERE channel_id = $1 AND message_id = $2 AND status = 'pending'`, channelID, messageID, SanitizeText(reason), status, retryIn.Seconds())
	if err != nil {
		return false, fmt.Errorf("store: media attempt: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := insertOutbox(ctx, tx, evs); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: media attempt: %w", err)
	}
	return true, nil
}

// MediaRefreshed records the direct path a media retry returned.
func (s *Store) MediaRefreshed(ctx context.Context, channelID, messageID, directPath string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE media SET direct_path = $3, updated_at = now() WHERE channel_id = $1 AND message_id = $2`,
		channelID, messageID, directPath)
	if err != nil {
		return fmt.Errorf("store: media refreshed: %w", err)
	}
	return nil
}

// MediaPastRetention lists stored media stored before cutoff.
func (s *Store) MediaPastRetention(ctx context.Context, cutoff time.Time, limit int) ([]*Media, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+mediaCols+` FROM media d JOIN messages m ON m.id = d.message_id
		WHERE d.status = 'stored' AND d.stored_at < $1 ORDER BY d.stored_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("store: media past retention: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Media, error) { return scanMedia(r) })
	if err != nil {
		return nil, fmt.Errorf("store: media past retention: %w", err)
	}
	return out, nil
}

// MediaDeleted marks stored media whose file was deleted expired.
func (s *Store) MediaDeleted(ctx context.Context, messageIDs []string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE media SET status = 'expired', updated_at = now() WHERE message_id = ANY($1) AND status = 'stored'`, messageIDs)
	if err != nil {
		return fmt.Errorf("store: media deleted: %w", err)
	}
	return nil
}
