package whatsmeow_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
	wmdriver "github.com/wagate/wagate/pkg/session/whatsmeow"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// A channel on the whatsmeow driver, started on a machine without a route
// to WhatsApp, goes to error with reason whatsapp_unreachable within
// seconds and is retried with backoff by the worker, until its attempts
// are exhausted and it waits for the long retry.
func TestWorkerRetriesAnUnreachableWhatsApp(t *testing.T) {
	if conn, err := net.DialTimeout("tcp", "web.whatsapp.com:443", 2*time.Second); err == nil {
		_ = conn.Close()
		t.Skip("WhatsApp is reachable from here")
	}
	t.Parallel()
	const shards = 4
	ctx := context.Background()
	st, _ := testenv.Store(t, shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	log := slog.New(slog.DiscardHandler)

	noVersionCheck := false // no internet in tests
	d, err := wmdriver.New(ctx, wmdriver.Config{Pool: st.Pool, DialTimeout: 2 * time.Second, Logger: log, VersionCheck: &noVersionCheck})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	// The channel exists before the worker starts, which resumes it when
	// it takes the shard.
	id := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: id, Name: "real number", TokenHash: httpapi.HashToken(id),
		Shard: shard.Of(id, shards), Driver: wmdriver.Name}))
	require.NoError(t, st.SetDesired(ctx, id, store.DesiredRunning))

	w := worker.New(worker.Config{
		ID: "w1", Shards: shards, Store: st, Bus: b, Redis: rdb, Keys: names.NewRedis(prefix),
		Drivers: map[string]session.Driver{wmdriver.Name: d}, LeaseTTL: 3 * time.Second, ResumeSpread: 10 * time.Millisecond,
		ReconnectBase: 100 * time.Millisecond, ReconnectMax: 400 * time.Millisecond, ReconnectAttempts: 3, ErrorRetry: time.Hour,
		Logger: log,
	})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); _ = w.Run(wctx) }()
	t.Cleanup(func() { stop(); <-done })

	var history []store.HistoryEntry
	count := func(to, reason string) int {
		n := 0
		for _, h := range history {
			if h.To == to && h.Reason == reason {
				n += max(h.Count, 1) // identical transitions in a row share one row
			}
		}
		return n
	}
	testenv.Eventually(t, 20*time.Second, func() bool {
		history, err = st.History(ctx, id, 0, 100)
		require.NoError(t, err)
		return count(state.Error, state.ReasonRetriesExhausted) > 0
	}, "attempts exhausted (history %+v)", history)
	require.GreaterOrEqual(t, count(state.Error, state.ReasonUnreachable), 1, "the attempt failed as unreachable")
	require.GreaterOrEqual(t, count(state.Connecting, state.ReasonReconnecting)+count(state.Initializing, state.ReasonReconnecting), 2, "and was retried")
	var first time.Time
	for i := len(history) - 1; i >= 0; i-- { // newest first: walk from the oldest
		h := history[i]
		t.Logf("%s → %s (%s) at +%s", h.From, h.To, h.Reason, h.At.Sub(start).Round(time.Millisecond))
		if first.IsZero() && h.To == state.Error && h.Reason == state.ReasonUnreachable {
			first = h.At
		}
	}
	require.Less(t, first.Sub(start), 5*time.Second, "the first failure shows within seconds")

	ch, err := st.ChannelAny(ctx, id)
	require.NoError(t, err)
	require.Equal(t, state.Error, ch.State, "waiting for the long retry, not spinning")
}
