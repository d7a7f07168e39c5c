package app_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/natsauth"
)

// With the gateway running, its NATS refuses a client without
// credentials; the app credential it writes into the data folder (in the
// standard .creds format) publishes a command that the worker executes,
// and cannot publish an event.
func TestGatewayNATSRequiresCredentials(t *testing.T) {
	env := gatewayEnv(t)
	env["WAGATE_NATS_LISTEN"] = "127.0.0.1:-1"
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	url := g.Deps.Embedded.ClientURL()

	_, err := nats.Connect(url, nats.MaxReconnects(0))
	require.ErrorContains(t, err, "Authorization Violation")

	errs := make(chan error, 4)
	creds := filepath.Join(env["WAGATE_DATA_DIR"], natsauth.AppCredsFile)
	nc, err := nats.Connect(url, nats.UserCredentials(creds),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	require.NoError(t, err)
	defer nc.Close()

	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	code, ch := api.do("POST", "/v1/channels", map[string]any{"name": "from-nats"})
	require.Equal(t, http.StatusCreated, code, "%v", ch)
	id := ch["id"].(string)

	n := g.Deps.Bus.Names
	forged := n.Evt(id, "connection.status_changed")
	require.NoError(t, nc.Publish(forged, []byte(`{"id":"evt_forged"}`)))
	select {
	case err := <-errs:
		require.ErrorContains(t, err, "Permissions Violation for Publish")
	case <-time.After(5 * time.Second):
		t.Fatal("an app's event was not refused")
	}

	code, _ = api.do("POST", "/v1/channels/"+id+"/start", nil)
	require.Equal(t, http.StatusAccepted, code)
	api.waitState(id, "qr_pending")

	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.Publish(ctx, n.Cmd(id, "stop"), []byte(`{}`), jetstream.WithMsgID("stop-"+id))
	require.NoError(t, err, "the command is stored and acknowledged to the app")
	api.waitState(id, "inactive")
}
