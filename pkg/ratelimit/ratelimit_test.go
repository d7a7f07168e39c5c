package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ratelimit"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestReserveSpacesSendsAcrossLimiters(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	keys := names.NewRedis(prefix)
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	// Two limiters stand for two workers sharing one Redis.
	a, b := ratelimit.New(rdb, keys), ratelimit.New(rdb, keys)
	a.Now, b.Now = clock, clock
	a.Jitter, b.Jitter = 0, 0
	plan := ratelimit.Plan{Rate: config.Rate{N: 60, Per: time.Minute}}
	ctx := context.Background()

	wait, err := a.Reserve(ctx, "ch", plan)
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = b.Reserve(ctx, "ch", plan)
	require.NoError(t, err)
	require.Equal(t, time.Second, wait, "the second worker must wait the same interval")
	now = now.Add(time.Second)
	wait, err = b.Reserve(ctx, "ch", plan)
	require.NoError(t, err)
	require.Zero(t, wait)
	// Other channels are independent.
	wait, err = a.Reserve(ctx, "other", plan)
	require.NoError(t, err)
	require.Zero(t, wait)
}

func TestJitterStretchesIntervals(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	l := ratelimit.New(rdb, names.NewRedis(prefix))
	now := time.Unix(1_700_000_000, 0)
	l.Now = func() time.Time { return now }
	plan := ratelimit.Plan{Rate: config.Rate{N: 10, Per: time.Second}}
	ctx := context.Background()
	seen := map[time.Duration]bool{}
	for range 20 {
		_, err := l.Reserve(ctx, "ch", plan)
		require.NoError(t, err)
		wait, err := l.Reserve(ctx, "ch", plan)
		require.NoError(t, err)
		require.GreaterOrEqual(t, wait, 100*time.Millisecond)
		require.LessOrEqual(t, wait, 130*time.Millisecond)
		seen[wait] = true
		now = now.Add(time.Second)
	}
	require.Greater(t, len(seen), 1, "intervals vary")
}

func TestWarmupLowersRateAndCapsTheDay(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	paired := now.Add(-30 * time.Hour) // day 2
	p := ratelimit.PlanFor(config.Rate{N: 70, Per: time.Minute}, 7, &paired, now)
	require.True(t, p.Warming)
	require.Equal(t, 2, p.Day)
	require.Equal(t, 20, p.Rate.N)
	require.Equal(t, 40, p.DailyCap)

	old := now.Add(-8 * 24 * time.Hour)
	require.False(t, ratelimit.PlanFor(config.Rate{N: 70, Per: time.Minute}, 7, &old, now).Warming)
	require.False(t, ratelimit.PlanFor(config.Rate{N: 70, Per: time.Minute}, 0, &paired, now).Warming)

	rdb, prefix := testenv.Redis(t)
	l := ratelimit.New(rdb, names.NewRedis(prefix))
	l.Now = func() time.Time { return now }
	capped := ratelimit.Plan{Rate: config.Rate{N: 1000, Per: time.Second}, Warming: true, Day: 1, DailyCap: 3}
	for range 3 {
		wait, err := l.Reserve(context.Background(), "ch", capped)
		require.NoError(t, err)
		require.Zero(t, wait)
		now = now.Add(10 * time.Millisecond)
	}
	wait, err := l.Reserve(context.Background(), "ch", capped)
	require.NoError(t, err)
	require.Greater(t, wait, time.Minute, "over the daily cap: wait for tomorrow")
	n, err := l.SentToday(context.Background(), "ch")
	require.NoError(t, err)
	require.Equal(t, 3, n)
}
