package webhook_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/webhook"
)

// gate is a receiver's answer that records the most requests in flight at
// once. Armed with want, it holds every request until want of them are in
// flight together (or gateWait passes), then lets all through: a dispatcher
// that opens the gate has had want attempts in flight to the endpoint.
type gate struct {
	mu      sync.Mutex
	now     int
	peak    int
	want    int
	open    chan struct{}
	reached bool
}

// gateWait bounds the hold of a request, well within the HTTPTimeout of
// fastConfig, so an unopened gate fails the test rather than the attempts.
const gateWait = 1500 * time.Millisecond

// arm starts a round: peak from zero, and requests held until want are in
// flight (want 0: answered after a millisecond).
func (g *gate) arm(want int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.peak, g.want, g.open, g.reached = 0, want, make(chan struct{}), false
}

func (g *gate) result() (peak int, reached bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak, g.reached
}

func (g *gate) respond(int, *http.Request) int {
	g.mu.Lock()
	g.now++
	g.peak = max(g.peak, g.now)
	if g.want > 0 && g.now >= g.want && !g.reached {
		g.reached = true
		close(g.open)
	}
	want, open := g.want, g.open
	g.mu.Unlock()
	if want > 0 {
		select {
		case <-open:
		case <-time.After(gateWait):
		}
	} else {
		time.Sleep(time.Millisecond)
	}
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
	return http.StatusOK
}

// maxInFlightAnswer is the API's view of an endpoint's bound.
type maxInFlightAnswer struct {
	ID          string `json:"id"`
	MaxInFlight int    `json:"max_in_flight"`
}

// publishRound publishes n events on ch and waits until rc has delivered
// every event so far.
func publishRound(t *testing.T, b *bundle, rc *receiver, ch string, n int) {
	t.Helper()
	before := len(rc.delivered())
	for range n {
		b.publish(t, ch, event.MessageReceived)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return len(rc.delivered()) == before+n },
		"%d more delivered", n)
}

// An endpoint's max_in_flight bounds its attempts in flight whatever the
// dispatcher's default: 1 never has two at once, 16 reaches 16 (more than
// the default 4), and a PATCH applies to the deliveries after it, both
// ways.
func TestEndpointMaxInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	var g gate
	rc := newReceiver(t, g.respond)
	var ep maxInFlightAnswer
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, webhooksPath(ch),
		map[string]any{"url": rc.srv.URL, "max_in_flight": 1}, &ep))
	require.Equal(t, 1, ep.MaxInFlight)
	cfg := b.fastConfig()
	require.Zero(t, cfg.EndpointConcurrency, "the default, 4, applies to other endpoints")
	b.start(t, cfg)

	g.arm(0)
	publishRound(t, b, rc, ch, 60)
	peak, _ := g.result()
	require.Equal(t, 1, peak, "max_in_flight 1: one attempt at a time")

	var upd maxInFlightAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, webhooksPath(ch)+"/"+ep.ID,
		map[string]any{"max_in_flight": 16}, &upd))
	require.Equal(t, 16, upd.MaxInFlight)
	g.arm(16)
	publishRound(t, b, rc, ch, 64)
	peak, reached := g.result()
	require.True(t, reached, "16 attempts in flight at once after the PATCH (peak %d)", peak)
	require.Equal(t, 16, peak, "never more than max_in_flight")

	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, webhooksPath(ch)+"/"+ep.ID,
		map[string]any{"max_in_flight": 1}, &upd))
	g.arm(0)
	publishRound(t, b, rc, ch, 60)
	peak, _ = g.result()
	require.Equal(t, 1, peak, "lowered back to 1")
}

// An endpoint's max_in_flight is checked on creation and update: bad
// values are refused with the field named and change nothing; null on
// PATCH returns the endpoint to the default; every answer shows the bound.
func TestEndpointMaxInFlightValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, token := b.channel(t)
	path := webhooksPath(ch)
	bad := []struct {
		name string
		body string
		code string
	}{
		{"zero", `{"url": "https://127.0.0.1/x", "max_in_flight": 0}`, "validation_failed"},
		{"negative", `{"url": "https://127.0.0.1/x", "max_in_flight": -1}`, "validation_failed"},
		{"over 64", `{"url": "https://127.0.0.1/x", "max_in_flight": 65}`, "validation_failed"},
		{"a string", `{"url": "https://127.0.0.1/x", "max_in_flight": "x"}`, "invalid_field_type"},
		{"a numeric string", `{"url": "https://127.0.0.1/x", "max_in_flight": "8"}`, "invalid_field_type"},
		{"a fraction", `{"url": "https://127.0.0.1/x", "max_in_flight": 1.5}`, "invalid_field_type"},
	}
	for _, tc := range bad {
		t.Run("create "+tc.name, func(t *testing.T) {
			var e apiError
			require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodPost, path, tc.body, &e))
			require.Equal(t, tc.code, e.Error.Code, e.Error.Message)
			require.Equal(t, "max_in_flight", e.Error.Details["field"], e.Error.Message)
		})
	}
	var list struct {
		Data []maxInFlightAnswer `json:"data"`
	}
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, path, nil, &list))
	require.Empty(t, list.Data, "nothing created by a refused request")

	var dflt, nullCreated, own maxInFlightAnswer
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, path, map[string]any{"url": "https://127.0.0.1/a"}, &dflt))
	require.Equal(t, webhook.DefaultEndpointConcurrency, dflt.MaxInFlight, "absent: the default")
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, path, `{"url": "https://127.0.0.1/b", "max_in_flight": null}`, &nullCreated))
	require.Equal(t, webhook.DefaultEndpointConcurrency, nullCreated.MaxInFlight, "null: the default")
	require.Equal(t, http.StatusCreated, b.do(t, token, http.MethodPost, path, map[string]any{"url": "https://127.0.0.1/c", "max_in_flight": 64}, &own))
	require.Equal(t, 64, own.MaxInFlight)
	var admin maxInFlightAnswer
	require.Equal(t, http.StatusCreated, b.do(t, adminToken, http.MethodPost, webhooksPath(""), map[string]any{"url": "https://127.0.0.1/d", "max_in_flight": 32}, &admin))
	require.Equal(t, 32, admin.MaxInFlight, "admin-level endpoints too")

	one := path + "/" + own.ID
	for _, tc := range bad {
		t.Run("update "+tc.name, func(t *testing.T) {
			var e apiError
			body := `{"description": "changed", ` + tc.body[len(`{"url": "https://127.0.0.1/x", `):]
			require.Equal(t, http.StatusBadRequest, b.do(t, token, http.MethodPatch, one, body, &e))
			require.Equal(t, tc.code, e.Error.Code, e.Error.Message)
			require.Equal(t, "max_in_flight", e.Error.Details["field"])
			var got struct {
				maxInFlightAnswer
				Description string `json:"description"`
			}
			require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, one, nil, &got))
			require.Equal(t, 64, got.MaxInFlight, "unchanged")
			require.Empty(t, got.Description, "nothing written")
		})
	}

	var got maxInFlightAnswer
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, one, map[string]any{"enabled": true}, &got))
	require.Equal(t, 64, got.MaxInFlight, "absent: unchanged")
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, one, map[string]any{"max_in_flight": 8}, &got))
	require.Equal(t, 8, got.MaxInFlight)
	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodPatch, one, `{"max_in_flight": null}`, &got))
	require.Equal(t, webhook.DefaultEndpointConcurrency, got.MaxInFlight, "null: back to the default")
	var stored *int
	require.NoError(t, b.st.Pool.QueryRow(t.Context(), `SELECT max_in_flight FROM webhook_endpoints WHERE id = $1`, own.ID).Scan(&stored))
	require.Nil(t, stored, "the default is stored as NULL, so it follows the dispatchers' setting")

	require.Equal(t, http.StatusOK, b.do(t, token, http.MethodGet, path, nil, &list))
	require.Len(t, list.Data, 3)
	for _, e := range list.Data {
		require.NotZero(t, e.MaxInFlight, "every answer shows the bound: %s", e.ID)
	}
}
