package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestTwoWorkersSplitShardsAndSurviveACrash(t *testing.T) {
	t.Parallel()
	const shards = 8
	ttl := 1200 * time.Millisecond
	f := newFleet(t, shards, ttl)
	a := f.startWorker("a")
	testenv.Eventually(t, 5*time.Second, func() bool { return len(a.w.Owned()) == shards }, "a alone owns every shard")

	var chans []string
	for i := range 6 {
		chans = append(chans, f.pairedChannel(fmt.Sprintf("c%d", i)))
	}

	b := f.startWorker("b")
	testenv.Eventually(t, 10*time.Second, func() bool {
		return len(a.w.Owned()) == shards/2 && len(b.w.Owned()) == shards/2
	}, "the shards to split evenly (a=%d b=%d)", len(a.w.Owned()), len(b.w.Owned()))
	owners := f.owned(a, b)
	require.Len(t, owners, shards, "every shard owned exactly once")
	for _, ch := range chans {
		f.waitState(ch, state.Active, 10*time.Second) // moved channels resumed on b
	}
	qrBefore := map[string]int{}
	for _, ch := range chans {
		qrBefore[ch] = countType(f.events(ch), event.ConnectionQR)
	}

	// b dies without releasing anything: a takes its shards once the
	// leases expire and resumes the paired sessions without a new QR.
	crashedAt := time.Now()
	b.crash()
	testenv.Eventually(t, 5*ttl+5*time.Second, func() bool { return len(a.w.Owned()) == shards }, "a to take b's shards over")
	takeover := time.Since(crashedAt)
	t.Logf("takeover of %d shards after a crash: %s (lease TTL %s)", shards/2, takeover.Round(time.Millisecond), ttl)
	require.GreaterOrEqual(t, takeover, ttl/2, "shards cannot move before the lease expires")
	for _, ch := range chans {
		f.waitState(ch, state.Active, 10*time.Second)
		require.Equal(t, qrBefore[ch], countType(f.events(ch), event.ConnectionQR), "channel %s resumed without a new QR", ch)
	}
	doubles, err := sim.DoubleConnections(context.Background(), f.rdb, f.keys)
	require.NoError(t, err)
	require.Zero(t, doubles, "a device was connected twice")

	// Graceful stop of a hands everything to a new worker without waiting for the TTL.
	c := f.startWorker("c")
	a.stop()
	testenv.Eventually(t, 10*time.Second, func() bool { return len(c.w.Owned()) == shards }, "c to take every shard")
	for _, ch := range chans {
		f.waitState(ch, state.Active, 10*time.Second)
	}
	doubles, err = sim.DoubleConnections(context.Background(), f.rdb, f.keys)
	require.NoError(t, err)
	require.Zero(t, doubles, "a device was connected twice during the hand-off")
}

func TestLostLeaseStopsSessionsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	a := f.startWorker("a")
	ch := f.pairedChannel("fenced")
	// Someone else takes the lease (as after a network partition): the
	// renewal fails and a must drop the shard and its session.
	require.NoError(t, f.rdb.Set(context.Background(), f.keys.ShardLease(0), "intruder:1", 10*time.Second).Err())
	testenv.Eventually(t, 5*time.Second, func() bool { return len(a.w.Owned()) == 0 }, "a to drop the shard")
	// The session is gone: its live marker expires and nothing reconnects.
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, func() bool {
		n, err := f.rdb.Exists(context.Background(), f.keys.SimConn(c.JID)).Result()
		return err == nil && n == 0
	}, "the session's connection to close")
}
