package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SimDevice is a device linked through the simulator driver (session/sim):
// what a phone scan leaves behind, so that any worker can resume the
// device without a new scan.
type SimDevice struct {
	// JID is the device's full JID ("<phone>:<device>@s.whatsapp.net").
	JID       string
	ChannelID string
	Phone     string
	PushName  string
	Platform  string
	// Identity stands in for the device's key material.
	Identity  []byte
	CreatedAt time.Time
}

// InsertSimDevice stores a newly linked device; ErrConflict when its JID is
// taken.
func (s *Store) InsertSimDevice(ctx context.Context, d *SimDevice) error {
	err := s.Pool.QueryRow(ctx, `INSERT INTO sim_devices (jid, channel_id, phone, push_name, platform, identity)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
		d.JID, d.ChannelID, d.Phone, d.PushName, d.Platform, d.Identity).Scan(&d.CreatedAt)
	if isDuplicate(err) {
		return fmt.Errorf("store: insert sim device %s: %w", d.JID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: insert sim device %s: %w", d.JID, err)
	}
	return nil
}

// SimDevice returns the device of jid; ErrNotFound when it is not stored
// (never linked, or unlinked since).
func (s *Store) SimDevice(ctx context.Context, jid string) (*SimDevice, error) {
	var d SimDevice
	err := s.Pool.QueryRow(ctx, `SELECT jid, channel_id, phone, push_name, platform, identity, created_at
		FROM sim_devices WHERE jid = $1`, jid).
		Scan(&d.JID, &d.ChannelID, &d.Phone, &d.PushName, &d.Platform, &d.Identity, &d.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: sim device %s: %w", jid, err)
	}
	return &d, nil
}

// DeleteSimDevice unlinks the device of jid and reports whether it was
// stored.
func (s *Store) DeleteSimDevice(ctx context.Context, jid string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM sim_devices WHERE jid = $1`, jid)
	if err != nil {
		return false, fmt.Errorf("store: delete sim device %s: %w", jid, err)
	}
	return tag.RowsAffected() > 0, nil
}
