package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/schemas"
)

// openAPIPath turns a Gin route (/v1/channels/:id) into its OpenAPI form.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func routes(e *gin.Engine) []string {
	var out []string
	for _, r := range e.Routes() {
		out = append(out, r.Method+" "+openAPIPath(r.Path))
	}
	slices.Sort(out)
	return out
}

func TestRoutesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	ops, err := schemas.ServedBy("api")
	require.NoError(t, err)
	var documented []string
	for _, op := range ops {
		documented = append(documented, op.String())
	}
	slices.Sort(documented)
	require.Equal(t, documented, routes(b.srv.Engine()), "the router and schemas/openapi.yaml must list the same routes")
}

func TestSimulatorRoutesOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	b := setup(t, options{simDisabled: true})
	for _, r := range routes(b.srv.Engine()) {
		require.NotContains(t, r, "/v1/sim/")
	}
	r := b.post("/v1/sim/channels/ch_x/scan", b.admin, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "route_not_found", r.code(t))

	snap := b.snapshot()
	r = b.post("/v1/channels", b.admin, map[string]any{"name": "x", "driver": "sim"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "validation_failed", r.code(t))
	require.Equal(t, snap, b.snapshot())
}

func TestOperatorEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	r := b.get("/healthz", "")
	require.Equal(t, http.StatusOK, r.status)
	r = b.get("/readyz", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "ready", r.json(t)["status"])
	r = b.get("/v1/openapi.yaml", "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, schemas.OpenAPI(), r.body)
	r = b.get("/v1/channels/ch_nope", b.admin)
	require.Equal(t, http.StatusNotFound, r.status)
	r = b.get("/metrics", "")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, string(r.body), `wagate_api_http_requests_total{method="GET",route="/v1/channels/:id",status="404"}`)
	require.Contains(t, string(r.body), `wagate_api_http_request_duration_seconds_bucket{method="GET",route="/healthz"`)
}

func TestMountsAndPanics(t *testing.T) {
	t.Parallel()
	b := setup(t, options{mounts: []func(r *gin.Engine, auth gin.HandlerFunc){
		func(r *gin.Engine, auth gin.HandlerFunc) {
			r.GET("/v1/channels/:id/whoami", auth, func(c *gin.Context) {
				c.JSON(http.StatusOK, gin.H{"admin": httpapi.PrincipalOf(c).Admin, "channel": httpapi.PrincipalOf(c).ChannelID})
			})
			r.GET("/boom", func(c *gin.Context) { panic("boom") })
		},
	}})
	ch := b.create("mounted", "")
	r := b.get("/v1/channels/"+ch.ID+"/whoami", ch.Token)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, map[string]any{"admin": false, "channel": ch.ID}, r.json(t))
	r = b.get("/v1/channels/"+ch.ID+"/whoami", "")
	require.Equal(t, http.StatusUnauthorized, r.status)

	r = b.get("/boom", "")
	require.Equal(t, http.StatusInternalServerError, r.status)
	require.Equal(t, "internal_error", r.code(t))
	require.Contains(t, b.logs.String(), "panic in handler")
}

func TestConfigIsValidated(t *testing.T) {
	t.Parallel()
	_, err := api.New(api.Config{})
	require.Error(t, err)
	for _, want := range []string{"Store", "Bus", "Redis", "AdminToken", "Shards"} {
		require.ErrorContains(t, err, want)
	}
	st, _ := testenv.Store(t, shards)
	rdb, _ := testenv.Redis(t)
	_, url := testenv.NATS(t)
	bs := testenv.Bus(t, url, shards)
	_, err = api.New(api.Config{Store: st, Bus: bs, Redis: rdb, AdminToken: "x", Shards: shards, DefaultDriver: "sim"})
	require.ErrorContains(t, err, "SimEnabled")
	_, err = api.New(api.Config{Store: st, Bus: bs, Redis: rdb, AdminToken: "x", Shards: shards, DefaultDriver: "telegram"})
	require.ErrorContains(t, err, "DefaultDriver")
}

// TestBusUnavailable shows that a command that cannot be queued answers 503
// and leaves the desired state as it was.
func TestBusUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	a := b.create("A", "")
	c := b.create("C", "")
	r := b.post("/v1/channels/"+c.ID+"/start", b.admin, nil)
	require.Equal(t, http.StatusAccepted, r.status)
	b.bus.Conn.Close()

	snap := b.desiredStates()
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"start", http.MethodPost, "/v1/channels/" + a.ID + "/start", nil},
		{"stop", http.MethodPost, "/v1/channels/" + c.ID + "/stop", nil},
		{"delete", http.MethodDelete, "/v1/channels/" + a.ID, nil},
		{"pair-phone", http.MethodPost, "/v1/channels/" + a.ID + "/pair-phone", map[string]any{"phone": "4915112345678"}},
		{"bulk", http.MethodPost, "/v1/channels/bulk", map[string]any{"action": "restart", "ids": []string{a.ID, c.ID}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(req{method: tc.method, path: tc.path, token: b.admin, body: tc.body})
			require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
			require.Equal(t, "bus_unavailable", r.code(t))
			require.Contains(t, r.json(t)["error"].(map[string]any)["message"], "retry")
			require.Equal(t, snap, b.desiredStates(), "desired states restored")
		})
	}
	require.Equal(t, store.DesiredStopped, b.desired(a.ID))
	require.Equal(t, store.DesiredRunning, b.desired(c.ID))
	r = b.get("/v1/channels/"+a.ID, a.Token)
	require.Equal(t, http.StatusOK, r.status, "a failed delete leaves the channel usable")

	r = b.get("/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Contains(t, r.json(t)["failed"], "nats")
	ok, err := b.store.RestoreDesired(context.Background(), a.ID, store.DesiredRunning, store.DesiredStopped)
	require.NoError(t, err)
	require.False(t, ok, "nothing left to restore")
}
