package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/lease"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestLeaseLifecycle(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	ctx := context.Background()
	a := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "a", TTL: 300 * time.Millisecond})
	b := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "b", TTL: 300 * time.Millisecond})

	la, ok, err := a.TryAcquire(ctx, 3)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = b.TryAcquire(ctx, 3)
	require.NoError(t, err)
	require.False(t, ok, "a held lease must not be acquired twice")

	before := la.TrustedUntil()
	require.NoError(t, a.Renew(ctx, la))
	require.False(t, la.TrustedUntil().Before(before), "renewal moves the trust window forward")
	require.True(t, la.TrustedUntil().Before(time.Now().Add(300*time.Millisecond)), "trust ends before the key can expire")

	holder, err := b.Holder(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, "a", holder)

	// Expiry: b takes over, and a's renewal must now fail rather than extend b's lease.
	testenv.Eventually(t, 2*time.Second, func() bool {
		_, ok, _ := b.TryAcquire(ctx, 3)
		return ok
	}, "lease to expire and pass to b")
	err = a.Renew(ctx, la)
	require.True(t, errors.Is(err, lease.ErrLost), "renew after expiry: %v", err)
	held, err := a.Holds(ctx, la)
	require.NoError(t, err)
	require.False(t, held)

	// Release by a non-holder is a no-op.
	require.NoError(t, a.Release(ctx, la))
	holder, err = a.Holder(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, "b", holder)
}

func TestHeartbeatCountsLiveWorkers(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	ctx := context.Background()
	a := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "a", TTL: 200 * time.Millisecond})
	b := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "b", TTL: 200 * time.Millisecond})
	_, err := a.Heartbeat(ctx)
	require.NoError(t, err)
	n, err := b.Heartbeat(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	// a stops beating: after a TTL only b is live.
	testenv.Eventually(t, 2*time.Second, func() bool {
		n, err := b.Heartbeat(ctx)
		return err == nil && n == 1
	}, "dead worker to be pruned")
	require.NoError(t, b.Leave(ctx))
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ shards, live, want int }{{64, 1, 64}, {64, 2, 32}, {64, 3, 22}, {64, 0, 64}, {5, 10, 1}} {
		require.Equal(t, tc.want, lease.Target(tc.shards, tc.live), "%+v", tc)
	}
}

// Two processes under one worker id are told apart: the second is refused
// until the first leaves.
func TestDuplicateWorkerIDIsRefusedUntilTheFirstLeaves(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	ctx := context.Background()
	first := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "host-1", TTL: 5 * time.Second})
	second := lease.New(lease.Config{Redis: rdb, Keys: keys, Worker: "host-1", TTL: 5 * time.Second})
	live, err := first.Heartbeat(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, live)
	_, err = second.Heartbeat(ctx)
	require.ErrorIs(t, err, lease.ErrDuplicateWorker)
	live, err = first.Heartbeat(ctx)
	require.NoError(t, err, "the first keeps its id")
	require.Equal(t, 1, live)
	require.NoError(t, first.Leave(ctx))
	live, err = second.Heartbeat(ctx)
	require.NoError(t, err, "the id is free once the first left")
	require.Equal(t, 1, live)
}
