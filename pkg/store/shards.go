package store

import (
	"context"
	"fmt"
)

// TakeEpoch bumps the epoch of shard k and records owner; the returned
// epoch fences every later write of the shard's channel state.
func (s *Store) TakeEpoch(ctx context.Context, k int, owner string) (int64, error) {
	var epoch int64
	err := s.Pool.QueryRow(ctx, `UPDATE shards SET epoch = epoch + 1, owner = $2, updated_at = now()
		WHERE shard = $1 RETURNING epoch`, k, owner).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("store: take epoch of shard %d: %w", k, err)
	}
	return epoch, nil
}

// ShardOwner returns the last recorded owner and epoch of shard k.
func (s *Store) ShardOwner(ctx context.Context, k int) (owner string, epoch int64, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT coalesce(owner, ''), epoch FROM shards WHERE shard = $1`, k).Scan(&owner, &epoch)
	return owner, epoch, err
}
