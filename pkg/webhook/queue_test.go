package webhook_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

// concurrencyProbe wraps a receiver's answer and records the most
// requests it had in flight at once.
type concurrencyProbe struct {
	now, peak atomic.Int32
}

func (p *concurrencyProbe) wrap(delay time.Duration) func(int, *http.Request) int {
	return func(int, *http.Request) int {
		n := p.now.Add(1)
		defer p.now.Add(-1)
		for {
			old := p.peak.Load()
			if n <= old || p.peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(delay)
		return http.StatusOK
	}
}

// A backlog for one endpoint with all its slots taken waits in memory
// instead of Postgres: every event arrives exactly once, never more than
// EndpointConcurrency at a time, each recorded by its first and only
// attempt (no delivery was written as pending and claimed back).
func TestBusyEndpointBacklogWaitsInMemory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, _ := b.channel(t)
	var probe concurrencyProbe
	rc := newReceiver(t, probe.wrap(time.Millisecond))
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	cfg := b.fastConfig()
	cfg.EndpointConcurrency = 2
	cfg.AckWait = 5 * time.Second // the queued messages outlive no AckWait here
	const n = 150
	want := map[string]bool{}
	for range n {
		want[b.publish(t, ch, event.MessageReceived).ID] = true
	}
	b.start(t, cfg)

	testenv.Eventually(t, 30*time.Second, func() bool { return len(rc.delivered()) == n }, "all %d delivered", n)
	for id, c := range rc.delivered() {
		require.True(t, want[id], "an event that was published")
		require.Equal(t, 1, c, "delivered once: %s", id)
	}
	require.LessOrEqual(t, probe.peak.Load(), int32(cfg.EndpointConcurrency))
	for _, r := range rc.requests() {
		verify(t, ep.Secret, r)
	}
	ctx := context.Background()
	var rows, attempts, deferred int
	testenv.Eventually(t, 5*time.Second, func() bool {
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(attempts), 0),
			count(*) FILTER (WHERE last_attempt_at <> created_at) FROM webhook_deliveries
			WHERE endpoint_id = $1 AND status = 'delivered'`, ep.ID).Scan(&rows, &attempts, &deferred))
		return rows == n
	}, "every delivery recorded delivered")
	require.Equal(t, n, attempts, "one attempt each")
	require.Zero(t, deferred, "none deferred to Postgres and claimed back")
	var logged int
	require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d
		ON d.id = a.delivery_id WHERE d.endpoint_id = $1 AND a.attempt = 1 AND a.status_code = 200`, ep.ID).Scan(&logged))
	require.Equal(t, n, logged, "every attempt logged")
}

// A dispatcher stopped while a backlog waits in its memory loses nothing:
// what it held goes back to NATS, and another dispatcher delivers every
// event.
func TestDispatcherStoppedMidBacklogLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, _ := b.channel(t)
	rc := newReceiver(t, func(int, *http.Request) int {
		time.Sleep(5 * time.Millisecond)
		return http.StatusOK
	})
	b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	cfg := b.fastConfig()
	cfg.EndpointConcurrency = 2
	const n = 200
	want := map[string]bool{}
	for range n {
		want[b.publish(t, ch, event.MessageReceived).ID] = true
	}

	d, err := webhook.NewDispatcher(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	testenv.Eventually(t, 20*time.Second, func() bool { return len(rc.delivered()) >= 10 }, "first dispatcher delivering")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("dispatcher did not stop")
	}
	atStop := len(rc.delivered())
	require.Less(t, atStop, n, "stopped mid-backlog")

	b.start(t, cfg)
	testenv.Eventually(t, 30*time.Second, func() bool {
		got := rc.delivered()
		for id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}, "every event delivered after the restart")
	t.Logf("stopped with %d of %d delivered", atStop, n)
}
