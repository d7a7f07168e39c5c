// Package apptest starts an in-process gateway (app.Start) on the
// simulator for tests outside pkg/app: real Postgres and Redis from
// testenv, an embedded NATS, fast simulated time and 5 s leases.
package apptest

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/testenv"
)

// AdminToken is the admin token of a gateway Start runs.
const AdminToken = "test-admin-token-0123456789"

// Env is the test environment of a gateway: its own database, Redis
// prefix and data folder, an in-process NATS, the simulator at high speed.
// An override of "" restores a setting's default (every setting but
// WAGATE_NATS_LISTEN reads "" as unset).
func Env(t *testing.T) map[string]string {
	t.Helper()
	_, prefix := testenv.Redis(t)
	return map[string]string{
		"WAGATE_DATABASE_URL":          testenv.DatabaseURL(t),
		"WAGATE_REDIS_URL":             testenv.RedisURL(),
		"WAGATE_REDIS_PREFIX":          prefix,
		"WAGATE_DATA_DIR":              t.TempDir(),
		"WAGATE_NATS_LISTEN":           "",
		"WAGATE_DRIVER":                "sim",
		"WAGATE_SIM_TIME_SCALE":        "0.02",
		"WAGATE_SIM_QR_TIME_SCALE":     "0.2", // codes that outlast a scan on a loaded machine
		"WAGATE_SHARDS":                "8",
		"WAGATE_LEASE_TTL":             "5s",
		"WAGATE_SEND_RATE":             "0",
		"WAGATE_ADMIN_TOKEN":           AdminToken,
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_LOG_LEVEL":             "warn",
		"WAGATE_LOG_FORMAT":            "text",
	}
}

// Start runs a gateway with Env, overrides on top of it, and stops it when
// the test ends. opts.Listener defaults to a free loopback port.
func Start(t *testing.T, overrides map[string]string, opts app.Options) *app.Gateway {
	t.Helper()
	env := Env(t)
	maps.Copy(env, overrides)
	cfg, err := config.Load(config.RoleGateway, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	if opts.Listener == nil {
		opts.Listener, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := app.Start(context.Background(), cfg, log, opts)
	require.NoError(t, err)
	t.Cleanup(g.Stop)
	return g
}
