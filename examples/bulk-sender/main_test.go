package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/app/apptest"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/testenv"
)

// The bulk sender against a gateway on the simulator: N messages with
// keys are sent once each; a rerun with the same keys replays them all
// and sends nothing twice.
func TestBulkSenderSendsOnceAndResumes(t *testing.T) {
	g := apptest.Start(t, nil, app.Options{})
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
