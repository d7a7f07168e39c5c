package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/testenv"
)

// Postgres or NATS down answers 503 with Retry-After and the stable code
// of the dependency on every API route — never 500 internal_error — and
// the answers are what the OpenAPI document says. Postgres goes down for
// this test's database only (connections refused, existing ones killed);
// NATS is the gateway's own embedded server.
func TestDependenciesDownAnswer503WithRetryAfter(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	c := newConformingClient(t, g.URL())
	admin := g.AdminToken()
	id := pairedChannel(t, client{t: t, base: g.URL(), token: admin}, nil)
	ch := "/v1/channels/" + id
	wh := c.expect(call{method: "POST", path: ch + "/webhooks", token: admin, body: map[string]any{"url": "https://8.8.8.8/hook"}}, 201, "").json(t)
	hook := ch + "/webhooks/" + wh["id"].(string)

	ctx := context.Background()
	dbName := (func() string {
		cfg, err := pgx.ParseConfig(env["WAGATE_DATABASE_URL"])
		require.NoError(t, err)
		return cfg.Database
	})()
	adminConn, err := pgx.Connect(ctx, testenv.AdminDSN())
	require.NoError(t, err)
	defer adminConn.Close(ctx)
	_, err = adminConn.Exec(ctx, "ALTER DATABASE "+dbName+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = adminConn.Exec(context.Background(), "ALTER DATABASE "+dbName+" ALLOW_CONNECTIONS true")
	})
	_, err = adminConn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", dbName)
	require.NoError(t, err)

	storeRoutes := []call{
		{method: "GET", path: "/v1/channels", token: admin},
		{method: "POST", path: "/v1/channels", token: admin, body: map[string]any{"name": "x"}},
		{method: "GET", path: ch + "/messages", token: admin},
		{method: "GET", path: ch + "/messages?before=msg_x", token: admin},
		{method: "POST", path: ch + "/messages", token: admin, body: map[string]any{"to": "15550001111", "text": "hi"}},
		{method: "GET", path: ch + "/history", token: admin},
		{method: "GET", path: ch + "/usage", token: admin},
		{method: "GET", path: ch + "/webhooks", token: admin},
		{method: "GET", path: hook, token: admin},
		{method: "GET", path: hook + "/deliveries", token: admin},
		{method: "GET", path: ch + "/webhooks/dead-letters", token: admin},
		{method: "GET", path: "/v1/webhooks", token: admin},
		{method: "GET", path: "/v1/webhooks/dead-letters", token: admin},
		{method: "PATCH", path: hook, token: admin, body: map[string]any{"description": "d"}},
	}
	for _, r := range storeRoutes {
		a := c.do(r)
		require.Equal(t, http.StatusServiceUnavailable, a.status, "%s %s: %s", r.method, r.path, a.body)
		require.Equal(t, "store_unavailable", a.code(t), "%s %s", r.method, r.path)
		require.NotEmpty(t, a.header.Get("Retry-After"), "%s %s", r.method, r.path)
	}

	// Postgres back: the same routes answer again.
	_, err = adminConn.Exec(ctx, "ALTER DATABASE "+dbName+" ALLOW_CONNECTIONS true")
	require.NoError(t, err)
	testenv.Eventually(t, 20*time.Second, func() bool {
		return c.do(call{method: "GET", path: "/v1/channels", token: admin}).status == http.StatusOK
	},
		"the API to answer once Postgres is back")

	// NATS down: what needs the bus answers bus_unavailable.
	g.Deps.Embedded.Shutdown()
	busRoutes := []call{
		{method: "POST", path: ch + "/restart", token: admin},
		{method: "POST", path: ch + "/presence", token: admin, body: map[string]any{"state": "available"}},
		{method: "GET", path: ch + "/groups", token: admin},
	}
	for _, r := range busRoutes {
		a := c.do(r)
		require.Equal(t, http.StatusServiceUnavailable, a.status, "%s %s: %s", r.method, r.path, a.body)
		require.Equal(t, "bus_unavailable", a.code(t), "%s %s", r.method, r.path)
		require.NotEmpty(t, a.header.Get("Retry-After"), "%s %s", r.method, r.path)
	}
}
