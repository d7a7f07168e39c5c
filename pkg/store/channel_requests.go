package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SwapDesired sets the desired state of a live channel like SetDesired and
// returns the state it replaces, read under the same row lock, so a caller
// whose command then fails to publish can undo exactly its own change with
// RestoreDesired. ErrNotFound when the channel does not exist or is deleted.
func (s *Store) SwapDesired(ctx context.Context, id, desired string) (prev string, err error) {
	err = s.Pool.QueryRow(ctx, `UPDATE channels AS c SET desired_state = $2, updated_at = now(),
		deleted_at = CASE WHEN $2 = 'deleted' THEN now() ELSE c.deleted_at END
		FROM (SELECT id, desired_state FROM channels WHERE id = $1 AND deleted_at IS NULL FOR UPDATE) AS old
		WHERE c.id = old.id
		RETURNING old.desired_state`, id, desired).Scan(&prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: swap desired state: %w", err)
	}
	return prev, nil
}

// RestoreDesired undoes a SwapDesired whose command could not be
// published: if the desired state of channel id is still from, it becomes
// to again, and a channel that was being deleted is live again. It reports
// whether it changed anything (false when another request has changed the
// desired state since, which then wins).
func (s *Store) RestoreDesired(ctx context.Context, id, from, to string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE channels SET desired_state = $3, updated_at = now(),
		deleted_at = CASE WHEN $3 = 'deleted' THEN deleted_at ELSE NULL END
		WHERE id = $1 AND desired_state = $2`, id, from, to)
	if err != nil {
		return false, fmt.Errorf("store: restore desired state: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// PatchChannel renames a live channel (name nil: unchanged) and patches its
// settings in one statement: the top-level keys of set replace the stored
// ones and the keys in remove are dropped, so concurrent patches of
// different keys do not lose each other's changes. proxy, when not nil,
// replaces the sealed proxy URL ("" removes it).
func (s *Store) PatchChannel(ctx context.Context, id string, name *string, set json.RawMessage, remove []string, proxy *string) (*Channel, error) {
	if set == nil {
		set = json.RawMessage(`{}`)
	}
	if remove == nil {
		remove = []string{}
	}
	c, err := scanChannel(s.Pool.QueryRow(ctx, `UPDATE channels SET
		name = coalesce($2, name), settings = (settings || $3::jsonb) - $4::text[], proxy = coalesce($5, proxy), updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL RETURNING `+channelCols, id, name, set, remove, proxy))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: patch channel: %w", err)
	}
	return c, err
}
