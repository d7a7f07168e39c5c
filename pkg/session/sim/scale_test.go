package sim_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
)

// TestManyIdleSessionsAreCheap connects many sessions in one driver and
// checks what an idle connected session costs: no goroutine of its own and
// a few kilobytes, with one refresh loop keeping every marker alive. Not
// parallel: it measures goroutines and the heap.
func TestManyIdleSessionsAreCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("connects thousands of sessions")
	}
	const n = 2000
	f := newFleet(t)
	ctx := context.Background()
	jids := make([]string, n)
	rows := make([][]any, n)
	for i := range n {
		phone := fmt.Sprintf("1556%07d", i)
		jids[i] = phone + ":1@s.whatsapp.net"
		rows[i] = []any{jids[i], fmt.Sprintf("ch_load%d", i), phone, "", "android", []byte("identity")}
	}
	_, err := f.st.Pool.CopyFrom(ctx, pgx.Identifier{"sim_devices"},
		[]string{"jid", "channel_id", "phone", "push_name", "platform", "identity"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)

	// Refreshing 2,000 markers under the race detector on a loaded
	// machine takes longer than the fleet's 300 ms TTL allows.
	const ttl = 2 * time.Second
	d := f.driver(t, func(c *sim.Config) { c.PresenceTTL = ttl })
	var connected atomic.Int64
	sink := session.SinkFunc(func(ev session.Event) {
		if _, ok := ev.(session.Connected); ok {
			connected.Add(1)
		}
	})
	// Warm the connection pools up so that they do not count as sessions.
	for i := range 10 {
		_, _ = f.st.SimDevice(ctx, jids[i])
		f.rdb.Ping(ctx)
	}
	goroutines := settledGoroutines()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sessions := make([]session.Session, n)
	for i := range n {
		s, err := d.Open(ctx, session.Options{ChannelID: fmt.Sprintf("ch_load%d", i), JID: jids[i], Sink: sink})
		require.NoError(t, err)
		require.NoError(t, s.Connect(connCtx))
		sessions[i] = s
	}
	testenv.Eventually(t, wait, func() bool { return connected.Load() == n }, "%d sessions connected", n)
	extra := settledGoroutines() - goroutines
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSession := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d idle sessions: %d extra goroutines, %d bytes of heap each", n, extra, perSession)
	require.LessOrEqual(t, extra, 2, "one refresh loop per driver, no goroutine per session")
	require.Less(t, perSession, int64(20<<10))

	time.Sleep(2 * ttl) // markers live only if the loop refreshes them
	require.EqualValues(t, n, liveMarkers(t, f, jids))

	cancel()
	testenv.Eventually(t, wait, func() bool { return liveMarkers(t, f, jids) == 0 }, "markers released")
	testenv.Eventually(t, wait, func() bool { return runtime.NumGoroutine() <= goroutines },
		"goroutines back to %d (now %d)", goroutines, runtime.NumGoroutine())
	runtime.KeepAlive(sessions)
}

func liveMarkers(t *testing.T, f *fleet, jids []string) int64 {
	t.Helper()
	keys := make([]string, len(jids))
	for i, jid := range jids {
		keys[i] = f.keys.SimConn(jid)
	}
	var total int64
	for start := 0; start < len(keys); start += 500 {
		n, err := f.rdb.Exists(context.Background(), keys[start:min(start+500, len(keys))]...).Result()
		require.NoError(t, err)
		total += n
	}
	return total
}

// settledGoroutines returns the goroutine count once it stops falling.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

// BenchmarkSend measures sends on one connected session, receipts included.
func BenchmarkSend(b *testing.B) {
	f := newFleet(b)
	s, _, _ := online(b, f, f.driver(b, func(c *sim.Config) { c.TimeScale = 0.001 }))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Send(context.Background(), session.Outbound{ID: fmt.Sprint("msg_bench", i), To: "15550001111", Type: "text"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.Disconnect()
}
