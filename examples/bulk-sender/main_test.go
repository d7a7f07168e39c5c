package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/testenv"
)

// The bulk sender against a gateway on the simulator: N messages with
// keys are sent once each; a rerun with the same keys replays them all
// and sends nothing twice.
func TestBulkSenderSendsOnceAndResumes(t *testing.T) {
	_, prefix := testenv.Redis(t)
	env := map[string]string{
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
		"WAGATE_ADMIN_TOKEN":           "test-admin-token-0123456789",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true",
		"WAGATE_LOG_LEVEL":             "warn",
		"WAGATE_LOG_FORMAT":            "text",
	}
	cfg, err := config.Load(config.RoleGateway, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := app.Start(context.Background(), cfg, log, app.Options{Listener: ln})
	require.NoError(t, err)
	t.Cleanup(g.Stop)
	admin, err := client.New(g.URL(), g.AdminToken())
	require.NoError(t, err)
	ctx := t.Context()
	ch, err := admin.CreateChannel(ctx, client.CreateChannelRequest{Name: "bulk"})
	require.NoError(t, err)
	_, err = admin.StartChannel(ctx, ch.ID)
	require.NoError(t, err)
	testenv.Eventually(t, 20*time.Second, func() bool {
		got, err := admin.GetChannel(ctx, ch.ID)
		require.NoError(t, err)
		if got.State == client.StateQRPending {
			_, _ = admin.Simulate(ctx, ch.ID, client.SimScan, map[string]any{"phone": "15557654321"})
		}
		return got.State == client.StateActive
	}, "the channel to be paired")

	const n = 12
	run := func() {
		flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ExitOnError)
		os.Args = []string{"bulk-sender", "-url", g.URL(), "-channel", ch.ID, "-to", "15550107777", "-n", fmt.Sprint(n), "-keys", "bulktest", "-concurrency", "3"}
		t.Setenv("WAGATE_TOKEN", ch.Token)
		main()
	}
	run()
	count := func() int {
		total := 0
		for _, err := range admin.MessagesAll(ctx, ch.ID, client.ListMessagesParams{Chat: "15550107777"}) {
			require.NoError(t, err)
			total++
		}
		return total
	}
	require.Equal(t, n, count())
	run()
	require.Equal(t, n, count(), "a rerun with the same keys sends nothing twice")
}
