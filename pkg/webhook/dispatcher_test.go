package webhook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

// testLogger is silent unless WAGATE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("WAGATE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Every event reaches every matching enabled endpoint: the channel's own,
// filtered by exact type, category and "*", and the admin-level ones for
// every channel; nothing reaches a disabled endpoint or another channel's.
// Every request verifies with the reference library.
func TestFanOutReachesEveryMatchingEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	chA, _ := b.channel(t)
	chB, _ := b.channel(t)

	type target struct {
		rc     *receiver
		ep     endpointAnswer
		events map[string]bool
	}
	mk := func(channel string, body map[string]any) *target {
		rc := newReceiver(t, nil)
		body["url"] = rc.srv.URL + "/hook"
		return &target{rc: rc, ep: b.endpoint(t, channel, body), events: map[string]bool{}}
	}
	allA := mk(chA, map[string]any{"events": []string{"*"}, "headers": map[string]string{"X-Api-Key": "k1"}})
	msgA := mk(chA, map[string]any{"events": []string{"message.*"}})
	statusA := mk(chA, map[string]any{"events": []string{event.ConnectionStatusChanged, event.GroupCreated}})
	offA := mk(chA, map[string]any{"enabled": false})
	allB := mk(chB, map[string]any{})
	admin := mk("", map[string]any{"events": []string{"*"}})
	adminMsg := mk("", map[string]any{"events": []string{event.MessageReceived}})

	b.start(t, b.fastConfig())
	published := []event.Envelope{
		b.publish(t, chA, event.MessageReceived),
		b.publish(t, chA, event.MessageRead),
		b.publish(t, chA, event.ConnectionStatusChanged),
		b.publish(t, chA, event.GroupCreated),
		b.publish(t, chA, event.CallReceived),
		b.publish(t, chB, event.MessageReceived),
		b.publish(t, chB, event.PresenceUpdated),
	}
	for _, ev := range published {
		for _, tg := range []*target{allA, msgA, statusA, offA, allB, admin, adminMsg} {
			ch := ""
			if tg.ep.ChannelID != nil {
				ch = *tg.ep.ChannelID
			}
			if tg.ep.Enabled && (ch == "" || ch == ev.ChannelID) && matchesFilter(tg.ep.Events, ev.Type) {
				tg.events[ev.ID] = true
			}
		}
	}
	require.Len(t, allA.events, 5)
	require.Len(t, msgA.events, 2)
	require.Len(t, statusA.events, 2)
	require.Empty(t, offA.events)
	require.Len(t, allB.events, 2)
	require.Len(t, admin.events, 7)
	require.Len(t, adminMsg.events, 2)

	for name, tg := range map[string]*target{"allA": allA, "msgA": msgA, "statusA": statusA, "allB": allB, "admin": admin, "adminMsg": adminMsg} {
		testenv.Eventually(t, 10*time.Second, func() bool { return len(tg.rc.delivered()) == len(tg.events) },
			"%s receives its %d events", name, len(tg.events))
	}
	// Let anything wrongly fanned out arrive before checking for extras.
	time.Sleep(200 * time.Millisecond)
	byID := map[string]event.Envelope{}
	for _, ev := range published {
		byID[ev.ID] = ev
	}
	for name, tg := range map[string]*target{"allA": allA, "msgA": msgA, "statusA": statusA, "offA": offA, "allB": allB, "admin": admin, "adminMsg": adminMsg} {
		var seqs []uint64
		for _, r := range tg.rc.requests() {
			p := verify(t, tg.ep.Secret, r)
			require.True(t, tg.events[p.ID], "%s got %s (%s) it does not match", name, p.ID, p.Type)
			want := byID[p.ID]
			require.Equal(t, want.Type, p.Type)
			require.Equal(t, want.ChannelID, p.ChannelID)
			require.JSONEq(t, string(want.Data), string(p.Data))
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			seqs = append(seqs, p.Seq)
		}
		require.Len(t, seqs, len(tg.events), "%s: exactly one request per event", name)
	}
	for _, r := range allA.rc.requests() {
		require.Equal(t, "k1", r.Header.Get("X-Api-Key"), "custom header sent")
	}
	// The sequence orders a channel's events as they were published.
	last := uint64(0)
	for _, ev := range published[:5] {
		for _, r := range allA.rc.requests() {
			if p := verify(t, allA.ep.Secret, r); p.ID == ev.ID {
				require.Greater(t, p.Seq, last)
				last = p.Seq
			}
		}
	}
}

func matchesFilter(filters []string, typ string) bool {
	for _, f := range filters {
		if f == "*" || f == typ || (strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(f, "*"))) {
			return true
		}
	}
	return false
}

// A receiver answering 500 for a while gets the event later, with the same
// webhook-id on every attempt, and the delivery log shows every attempt.
func TestFailingReceiverGetsEventLaterWithSameID(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	b.start(t, b.fastConfig())
	ev := b.publish(t, ch, event.MessageReceived)

	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev.ID] == 1 }, "delivered after 3 failures")
	reqs := rc.requests()
	require.Len(t, reqs, 4)
	for _, r := range reqs {
		require.Equal(t, ev.ID, r.Header.Get(webhook.HeaderID))
		verify(t, ep.Secret, r)
	}

	var page struct {
		Data []webhook.Delivery `json:"data"`
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries", nil, &page))
		return len(page.Data) == 1 && page.Data[0].Status == webhook.StatusDelivered
	}, "delivery log shows the delivery delivered")
	d := page.Data[0]
	require.Equal(t, ev.ID, d.EventID)
	require.Equal(t, 4, d.AttemptCount)
	require.Len(t, d.Attempts, 4)
	for i, a := range d.Attempts {
		require.Equal(t, i+1, a.Attempt)
		want := http.StatusInternalServerError
		if i == 3 {
			want = http.StatusOK
		}
		require.NotNil(t, a.StatusCode)
		require.Equal(t, want, *a.StatusCode)
		require.Equal(t, `{"ok":true}`, a.ResponseSnippet)
	}
	require.NotEmpty(t, d.Attempts[0].Error)

	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries?status=failed", nil, &page))
	require.Empty(t, page.Data, "status filter")
	var one webhook.Delivery
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries/"+d.ID, nil, &one))
	require.Equal(t, d.ID, one.ID)
}

// A dead endpoint (it never answers) does not slow a healthy one: the
// healthy receiver gets all N events while the dead one has no more than
// its per-endpoint share of attempts in flight, the rest waiting in
// Postgres.
func TestDeadEndpointDoesNotSlowHealthyOne(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, _ := b.channel(t)
	release := make(chan struct{})
	dead := newReceiver(t, func(int, *http.Request) int {
		<-release
		return http.StatusServiceUnavailable
	})
	t.Cleanup(func() { close(release) })
	healthy := newReceiver(t, nil)
	deadEP := b.endpoint(t, ch, map[string]any{"url": dead.srv.URL})
	b.endpoint(t, ch, map[string]any{"url": healthy.srv.URL})

	cfg := b.fastConfig()
	cfg.Concurrency = 8
	cfg.EndpointConcurrency = 2
	cfg.HTTPTimeout = time.Minute // the dead endpoint holds its slots for the whole test
	b.start(t, cfg)

	const n = 100
	for range n {
		b.publish(t, ch, event.MessageReceived)
	}
	testenv.Eventually(t, 20*time.Second, func() bool { return len(healthy.delivered()) == n }, "healthy endpoint gets all %d events", n)
	require.LessOrEqual(t, dead.count(), cfg.EndpointConcurrency, "the dead endpoint holds at most its slots")
	require.Empty(t, dead.delivered())
	// The rest of the dead endpoint's deliveries wait in Postgres, acked in
	// NATS, holding no slot.
	var page struct {
		Data []webhook.Delivery `json:"data"`
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		b.do(t, adminToken, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+deadEP.ID+"/deliveries?status=pending&limit=200", nil, &page)
		return len(page.Data) == n-dead.count()
	}, "the dead endpoint's other deliveries are pending in Postgres")
	t.Logf("healthy delivered %d while the dead endpoint had %d requests in flight", len(healthy.delivered()), dead.count())
}

// 410 Gone disables the endpoint at once and tells the channel through
// webhook.disabled; later events are not delivered to it.
func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	gone := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
	watcher := newReceiver(t, nil)
	ep := b.endpoint(t, ch, map[string]any{"url": gone.srv.URL, "events": []string{"message.*"}})
	watch := b.endpoint(t, ch, map[string]any{"url": watcher.srv.URL, "events": []string{event.WebhookDisabled}})
	b.start(t, b.fastConfig())

	b.publish(t, ch, event.MessageReceived)
	testenv.Eventually(t, 10*time.Second, func() bool {
		var got endpointAnswer
		b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID, nil, &got)
		return !got.Enabled
	}, "endpoint disabled")
	require.Equal(t, 1, gone.count(), "410 is not retried")

	var got endpointAnswer
	b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID, nil, &got)
	require.Contains(t, got.DisabledReason, "410")

	// The event is published after the endpoint is stored disabled.
	var evs []event.Envelope
	testenv.Eventually(t, 10*time.Second, func() bool {
		evs = b.events(t, ch, event.WebhookDisabled)
		return len(evs) > 0
	}, "webhook.disabled published")
	require.Len(t, evs, 1)
	require.Contains(t, string(evs[0].Data), ep.ID)
	// The notice reaches the channel's other endpoints like any event.
	testenv.Eventually(t, 10*time.Second, func() bool { return watcher.count() == 1 }, "webhook.disabled delivered")
	p := verify(t, watch.Secret, watcher.requests()[0])
	require.Equal(t, event.WebhookDisabled, p.Type)

	// A sibling endpoint added now receives the next event: once it has,
	// the event was fanned out, and the disabled endpoint got nothing.
	sibling := newReceiver(t, nil)
	b.endpoint(t, ch, map[string]any{"url": sibling.srv.URL, "events": []string{"message.*"}})
	next := b.publish(t, ch, event.MessageReceived)
	testenv.Eventually(t, 10*time.Second, func() bool { return sibling.delivered()[next.ID] == 1 }, "the next event delivered to a sibling")
	require.Equal(t, 1, gone.count(), "a disabled endpoint gets nothing")
}

// An endpoint failing without a success for longer than DisableAfter is
// disabled with a webhook.disabled event.
func TestEndpointFailingTooLongIsDisabled(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	cfg := b.fastConfig()
	cfg.Schedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	cfg.DisableAfter = 120 * time.Millisecond
	b.start(t, cfg)
	ev := b.publish(t, ch, event.MessageReceived)

	testenv.Eventually(t, 10*time.Second, func() bool { return len(b.events(t, ch, event.WebhookDisabled)) == 1 }, "webhook.disabled published")
	var got endpointAnswer
	b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID, nil, &got)
	require.False(t, got.Enabled)
	require.Contains(t, got.DisabledReason, "failing")
	// The list is awaited, not read once: a delivery in flight when the
	// endpoint was disabled is recorded after the disabling, and the
	// webhook.disabled event itself may reach a dispatcher whose cache
	// still holds the endpoint enabled (a second dead letter, of another
	// event).
	testenv.Eventually(t, 30*time.Second, func() bool {
		var dl struct {
			Data []webhook.Delivery `json:"data"`
		}
		require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/dead-letters", nil, &dl))
		for _, d := range dl.Data {
			if d.EventID == ev.ID {
				return true
			}
		}
		return false
	}, "the delivery that waited for the endpoint to be a dead letter")
}

// After the schedule is exhausted the delivery is a dead letter; once the
// receiver is fixed, replay delivers it (by event, and everything failed
// since a time).
func TestExhaustedDeliveryIsDeadLetterAndReplayDelivers(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	var healthy atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusBadRequest
	})
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	cfg := b.fastConfig()
	cfg.Schedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
	b.start(t, cfg)
	since := time.Now().Add(-time.Second)
	ev1 := b.publish(t, ch, event.MessageReceived)
	ev2 := b.publish(t, ch, event.MessageSent)

	type page struct {
		Data       []webhook.Delivery `json:"data"`
		NextBefore *string            `json:"next_before"`
	}
	var dl page
	testenv.Eventually(t, 10*time.Second, func() bool {
		require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/dead-letters", nil, &dl))
		return len(dl.Data) == 2
	}, "both deliveries dead")
	for _, d := range dl.Data {
		require.Equal(t, webhook.StatusDead, d.Status)
		require.Equal(t, 3, d.AttemptCount, "1 + len(schedule) attempts")
		require.Len(t, d.Attempts, 3)
	}
	var all page
	require.Equal(t, http.StatusOK, b.do(t, adminToken, http.MethodGet, "/v1/webhooks/dead-letters?limit=1", nil, &all))
	require.Len(t, all.Data, 1)
	require.NotNil(t, all.NextBefore, "paginated")
	require.Equal(t, http.StatusOK, b.do(t, adminToken, http.MethodGet, "/v1/webhooks/dead-letters?before="+*all.NextBefore, nil, &all))
	require.Len(t, all.Data, 1)

	healthy.Store(true)
	base := "/v1/channels/" + ch + "/webhooks/" + ep.ID
	var ans struct {
		Replayed int `json:"replayed"`
	}
	require.Equal(t, http.StatusAccepted, b.do(t, token, http.MethodPost, base+"/replay", map[string]any{"event_id": ev1.ID}, &ans))
	require.Equal(t, 1, ans.Replayed)
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev1.ID] == 1 }, "replayed event delivered")
	require.Zero(t, rc.delivered()[ev2.ID])

	require.Equal(t, http.StatusAccepted, b.do(t, token, http.MethodPost, base+"/replay",
		map[string]any{"since": since.Format(time.RFC3339Nano), "status": "failed"}, &ans))
	require.Equal(t, 1, ans.Replayed, "only the still-dead delivery")
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev2.ID] == 1 }, "failed since: delivered")
	for _, r := range rc.requests() {
		verify(t, ep.Secret, r)
	}

	var e apiError
	require.Equal(t, http.StatusNotFound, b.do(t, token, http.MethodPost, base+"/replay", map[string]any{"event_id": "evt_nope"}, &e))
	require.Equal(t, "delivery_not_found", e.Error.Code)
}

// During a rotation's grace period both secrets sign; with a zero grace
// period only the new one does.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	rc := newReceiver(t, nil)
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	b.start(t, b.fastConfig())
	base := "/v1/channels/" + ch + "/webhooks/" + ep.ID

	var rotated endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPost, base+"/rotate", map[string]any{"grace_period": "1h"}, &rotated))
	require.NotEqual(t, ep.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretExpiresAt)
	require.WithinDuration(t, time.Now().Add(time.Hour), *rotated.PreviousSecretExpiresAt, time.Minute)

	ev := b.publish(t, ch, event.MessageReceived)
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev.ID] == 1 }, "delivered")
	r := rc.requests()[0]
	require.Len(t, strings.Fields(r.Header.Get(webhook.HeaderSignature)), 2, "two signatures")
	verify(t, ep.Secret, r)
	verify(t, rotated.Secret, r)

	var again endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPost, base+"/rotate", map[string]any{"grace_period": "0s"}, &again))
	require.Nil(t, again.PreviousSecretExpiresAt)
	ev2 := b.publish(t, ch, event.MessageReceived)
	testenv.Eventually(t, 10*time.Second, func() bool { return rc.delivered()[ev2.ID] == 1 }, "delivered")
	r = rc.requests()[1]
	require.Len(t, strings.Fields(r.Header.Get(webhook.HeaderSignature)), 1)
	verify(t, again.Secret, r)
	for _, old := range []string{ep.Secret, rotated.Secret} {
		wh, err := standardwebhooks.NewWebhook(old)
		require.NoError(t, err)
		require.Error(t, wh.Verify(r.Body, r.Header), "a revoked secret no longer verifies")
	}

	var plain endpointAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, base, nil, &plain))
	require.Empty(t, plain.Secret, "the secret is shown only at creation and rotation")
}

// With private addresses refused, the dispatcher does not connect to a
// receiver on loopback, whether named by IP or by a name resolving to it,
// even when the endpoint got past registration (here: registered while
// private addresses were allowed, as after DNS rebinding).
func TestDialTimeGuardRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	rc := newReceiver(t, nil)
	port := rc.srv.URL[strings.LastIndex(rc.srv.URL, ":")+1:]
	var eps []endpointAnswer
	for _, u := range []string{
		rc.srv.URL, // 127.0.0.1
		"http://localhost:" + port,
		"http://[::1]:" + port,
		"http://10.0.0.1:9/hook",
		"http://169.254.169.254/latest/meta-data/",
	} {
		eps = append(eps, b.endpoint(t, ch, map[string]any{"url": u}))
	}
	cfg := b.fastConfig()
	cfg.AllowPrivate = false
	b.start(t, cfg)
	b.publish(t, ch, event.MessageReceived)

	for _, ep := range eps {
		var page struct {
			Data []webhook.Delivery `json:"data"`
		}
		testenv.Eventually(t, 10*time.Second, func() bool {
			b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries", nil, &page)
			return len(page.Data) == 1 && len(page.Data[0].Attempts) > 0
		}, "attempt logged")
		a := page.Data[0].Attempts[0]
		require.Nil(t, a.StatusCode, ep.URL)
		require.Contains(t, a.Error, "not allowed", ep.URL)
	}
	require.Zero(t, rc.count(), "nothing reached the loopback receiver")
}

// A dispatcher that died holding a claimed delivery leaves it behind a
// lease; when the lease runs out another dispatcher delivers it.
func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, _ := b.channel(t)
	rc := newReceiver(t, nil)
	ep := b.endpoint(t, ch, map[string]any{"url": rc.srv.URL})
	ctx := context.Background()
	body := `{"id":"evt_lease","type":"message.received","channel_id":"` + ch + `","created_at":"2025-01-01T00:00:00Z","epoch":1,"data":{},"seq":7}`
	_, err := b.st.Pool.Exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, channel_id, event_id, event_type, event_seq,
		payload, status, attempts, lease_owner, next_attempt_at)
		VALUES ('dlv_lease', $1, $2, 'evt_lease', 'message.received', 7, $3, 'delivering', 1, 'dead-dispatcher', now() + interval '300 milliseconds')`,
		ep.ID, ch, []byte(body))
	require.NoError(t, err)
	start := time.Now()
	b.start(t, b.fastConfig())

	testenv.Eventually(t, 10*time.Second, func() bool { return rc.count() == 1 }, "delivered after the lease expired")
	require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "not before the lease ran out")
	r := rc.requests()[0]
	verify(t, ep.Secret, r)
	require.Equal(t, "evt_lease", r.Header.Get(webhook.HeaderID))
	require.Equal(t, "7", r.Header.Get(webhook.HeaderSequence))
	var status string
	testenv.Eventually(t, 5*time.Second, func() bool {
		require.NoError(t, b.st.Pool.QueryRow(ctx, `SELECT status FROM webhook_deliveries WHERE id = 'dlv_lease'`).Scan(&status))
		return status == webhook.StatusDelivered
	}, "recorded delivered")
}

// Run returns when its context ends.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	d, err := webhook.NewDispatcher(b.fastConfig())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// A redirect is not followed: it counts as a failure, and the target of
// the redirect never sees the signed payload.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	target := newReceiver(t, nil)
	redirecting := newReceiver(t, func(int, *http.Request) int { return http.StatusFound })
	redirecting.srv.Config.Handler = http.RedirectHandler(target.srv.URL, http.StatusFound)
	ep := b.endpoint(t, ch, map[string]any{"url": redirecting.srv.URL})
	b.start(t, b.fastConfig())
	b.publish(t, ch, event.MessageReceived)

	var page struct {
		Data []webhook.Delivery `json:"data"`
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		b.do(t, token, http.MethodGet, "/v1/channels/"+ch+"/webhooks/"+ep.ID+"/deliveries", nil, &page)
		return len(page.Data) == 1 && len(page.Data[0].Attempts) > 0
	}, "attempt logged")
	a := page.Data[0].Attempts[0]
	require.Equal(t, http.StatusFound, *a.StatusCode)
	require.Contains(t, a.Error, "redirects are not followed")
	require.NotEqual(t, webhook.StatusDelivered, page.Data[0].Status)
	require.Zero(t, target.count())
}
