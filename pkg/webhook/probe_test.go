package webhook_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

// A receiver that fails for a while gets everything that waited for it
// soon after it heals, although each delivery's own next retry lies an
// hour ahead: the failing endpoint is probed at short, growing intervals
// and the first success makes every waiting delivery due. Probes with
// deliveries not due yet do not use up their schedule. Two dispatchers
// share the work: the state lives in Postgres.
func TestHealedEndpointGetsWaitingDeliveriesAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	var healthy atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	cfg := b.fastConfig()
	cfg.Schedule = []time.Duration{time.Hour, time.Hour}
	cfg.ProbeInterval = 20 * time.Millisecond
	cfg.ProbeMaxInterval = 100 * time.Millisecond
	b.start(t, cfg)
	b.start(t, cfg)

	const n = 20
	want := map[string]bool{}
	for range n {
		want[b.publish(t, ch, event.MessageReceived).ID] = true
	}
	type page struct {
		Data []webhook.Delivery `json:"data"`
	}
	list := func() []webhook.Delivery {
		var p page
		require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries?limit=100", nil, &p))
		return p.Data
	}
	// Each delivery failed at least once; its own retry is an hour away.
	testenv.Eventually(t, 20*time.Second, func() bool {
		ds := list()
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.AttemptCount != 1 || d.Status != webhook.StatusFailed || d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) < 30*time.Minute {
				return false
			}
		}
		return true
	}, "every delivery failed once and waits for its retry")
	// The endpoint keeps being probed while it fails.
	seen := rc.count()
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.count() >= seen+3 }, "the failing endpoint to be probed")
	probed := 0
	for _, d := range list() {
		require.Equal(t, 1, d.AttemptCount, "a probe with a delivery not due does not count as its attempt")
		for _, a := range d.Attempts {
			if a.Probe {
				probed++
			}
		}
	}
	require.Positive(t, probed, "probes are logged as such")

	healthy.Store(true)
	testenv.Eventually(t, 10*time.Second, func() bool {
		got := rc.delivered()
		for id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}, "every waiting delivery to arrive soon after the receiver healed")
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, d := range list() {
			if d.Status != webhook.StatusDelivered {
				return false
			}
		}
		return true
	}, "every delivery recorded delivered")
	for _, d := range list() {
		require.Equal(t, 2, d.AttemptCount, "one failure and the success: probes did not use up the schedule")
	}
	var got struct {
		Enabled      bool       `json:"enabled"`
		FailingSince *time.Time `json:"failing_since"`
		BackoffUntil *time.Time `json:"backoff_until"`
	}
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID, nil, &got))
	require.True(t, got.Enabled)
	require.Nil(t, got.FailingSince, "the streak ended")
	require.Nil(t, got.BackoffUntil)
}
