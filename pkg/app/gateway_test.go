package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/app/apptest"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
	"github.com/wagate/wagate/schemas"
)

// gatewayEnv is the environment of one in-process gateway; restarting
// with the same env keeps its database, Redis prefix and NATS data. It is
// apptest's with the default send rate and webhook address rules, which
// tests here check.
func gatewayEnv(t *testing.T) map[string]string {
	env := apptest.Env(t)
	delete(env, "WAGATE_SEND_RATE")
	delete(env, "WAGATE_WEBHOOK_ALLOW_PRIVATE")
	return env
}

func startGateway(t *testing.T, env map[string]string) *app.Gateway {
	t.Helper()
	cfg, err := config.Load(config.RoleGateway, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := app.Start(context.Background(), cfg, log, app.Options{Listener: ln, Worker: func(c *worker.Config) {
		c.ResumeSpread = 20 * time.Millisecond
	}})
	require.NoError(t, err)
	return g
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (c client) state(id string) string {
	_, ch := c.do("GET", "/v1/channels/"+id, nil)
	s, _ := ch["state"].(string)
	return s
}

func (c client) waitState(id, want string) {
	c.t.Helper()
	testenv.Eventually(c.t, 15*time.Second, func() bool { return c.state(id) == want }, "channel to be %s (is %s)", want, c.state(id))
}

// The spine end to end through the HTTP API: create → start → QR codes
// rotate → simulated scan → active, with every event in WA_EVT valid
// against its schema; then a gateway restart resumes the paired channel
// without a new QR.
func TestGatewayPairsThroughTheAPIAndResumesAfterRestart(t *testing.T) {
	env := gatewayEnv(t)
	delete(env, "WAGATE_SIM_QR_TIME_SCALE") // the codes rotate within a second or two
	g := startGateway(t, env)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}

	code, ch := api.do("POST", "/v1/channels", map[string]any{"name": "support"})
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id := ch["id"].(string)
	require.NotEmpty(t, ch["token"])
	require.Equal(t, "inactive", ch["state"])

	code, _ = api.do("POST", "/v1/channels/"+id+"/start", nil)
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "qr_pending")

	var first string
	testenv.Eventually(t, 10*time.Second, func() bool {
		code, qr := api.do("GET", "/v1/channels/"+id+"/qr", nil)
		if code != http.StatusOK {
			return false
		}
		if first == "" {
			first = qr["code"].(string)
		}
		return qr["code"].(string) != first
	}, "the QR code to rotate")

	code, _ = api.do("POST", "/v1/sim/channels/"+id+"/scan", map[string]any{"phone": "15557654321"})
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "active")
	_, ch = api.do("GET", "/v1/channels/"+id, nil)
	require.Equal(t, "15557654321", ch["phone"])

	evs := readEvents(t, g, id)
	validator, err := schemas.NewValidator()
	require.NoError(t, err)
	qrs := 0
	for _, ev := range evs {
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		require.NoError(t, validator.ValidateEvent(raw), "event %s", ev.Type)
		if ev.Type == event.ConnectionQR {
			qrs++
		}
	}
	require.GreaterOrEqual(t, qrs, 2)

	code, hist := api.do("GET", "/v1/channels/"+id+"/history", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, hist["data"], 4)

	// Restart the gateway: the paired channel comes back without a scan.
	g.Stop()
	g = startGateway(t, env)
	t.Cleanup(g.Stop)
	api.base = g.URL()
	api.waitState(id, "active")
	after := 0
	for _, ev := range readEvents(t, g, id) {
		if ev.Type == event.ConnectionQR {
			after++
		}
	}
	require.Equal(t, qrs, after, "resumed without a new QR")
}

func readEvents(t *testing.T, g *app.Gateway, channel string) []event.Envelope {
	t.Helper()
	b := g.Deps.Bus
	cons, err := b.JS.OrderedConsumer(context.Background(), b.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Names.EvtChannel(channel)},
	})
	require.NoError(t, err)
	var out []event.Envelope
	for {
		batch, err := cons.FetchNoWait(500)
		require.NoError(t, err)
		n := 0
		for m := range batch.Messages() {
			n++
			var ev event.Envelope
			require.NoError(t, json.Unmarshal(m.Data(), &ev))
			out = append(out, ev)
		}
		if n == 0 {
			return out
		}
	}
}
