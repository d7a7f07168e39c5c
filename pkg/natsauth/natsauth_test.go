package natsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/testenv"
)

// conn connects to url as role and collects the server's asynchronous
// errors (permission violations).
type conn struct {
	nc   *nats.Conn
	errs chan error
}

func connect(t *testing.T, url string, role natsauth.Role) *conn {
	t.Helper()
	c := &conn{errs: make(chan error, 16)}
	nc, err := nats.Connect(url, testenv.NATSOption(t, url, role),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.errs <- err }))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	c.nc = nc
	return c
}

// refused publishes on subject and expects the server to refuse it.
func (c *conn) refusedPublish(t *testing.T, subject string) {
	t.Helper()
	require.NoError(t, c.nc.Publish(subject, []byte(`{"id":"evt_forged"}`)))
	select {
	case err := <-c.errs:
		require.ErrorContains(t, err, "Permissions Violation for Publish")
		require.Contains(t, err.Error(), subject)
	case <-time.After(5 * time.Second):
		t.Fatalf("publishing on %s was not refused", subject)
	}
}

func TestClientWithoutCredentialsIsRefused(t *testing.T) {
	t.Parallel()
	_, url := testenv.NATS(t)
	_, err := nats.Connect(url, nats.MaxReconnects(0))
	require.ErrorContains(t, err, "Authorization Violation")
	_, err = nats.Connect(url, nats.UserInfo("wagate", "wagate"), nats.MaxReconnects(0))
	require.ErrorContains(t, err, "Authorization Violation")

	other, err := natsauth.New()
	require.NoError(t, err)
	creds, err := other.Creds(natsauth.RoleAdmin, "")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "other.creds")
	require.NoError(t, os.WriteFile(path, creds, 0o600))
	_, err = nats.Connect(url, nats.UserCredentials(path), nats.MaxReconnects(0))
	require.Error(t, err, "credentials of another operator are refused")
}

// Only workers publish events; the dispatcher announces webhook.disabled
// and nothing else; the API and apps publish none. Nothing refused lands
// in WA_EVT, so nothing forged reaches webhooks or browsers.
func TestOnlyWorkersPublishEvents(t *testing.T) {
	t.Parallel()
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, 4) // a fleet prefix: permissions hold under it
	ctx := context.Background()
	n := b.Names
	received := n.Evt("ch_x", "message.received")

	for _, role := range []natsauth.Role{natsauth.RoleApp, natsauth.RoleAPI, natsauth.RoleDispatcher} {
		t.Run(string(role), func(t *testing.T) {
			c := connect(t, url, role)
			c.refusedPublish(t, received)
			c.refusedPublish(t, names.NewNATS("").Evt("ch_x", "message.received"))
		})
	}
	evt, err := b.JS.Stream(ctx, n.EvtStream())
	require.NoError(t, err)
	_, err = evt.GetLastMsgForSubject(ctx, received)
	require.ErrorIs(t, err, jetstream.ErrMsgNotFound, "a refused event is not stored")

	w := connect(t, url, natsauth.RoleWorker)
	wjs, err := jetstream.New(w.nc)
	require.NoError(t, err)
	_, err = wjs.Publish(ctx, received, []byte(`{"id":"evt_1"}`))
	require.NoError(t, err, "a worker publishes events")

	d := connect(t, url, natsauth.RoleDispatcher)
	djs, err := jetstream.New(d.nc)
	require.NoError(t, err)
	_, err = djs.Publish(ctx, n.Evt("ch_x", "webhook.disabled"), []byte(`{"id":"evt_2"}`))
	require.NoError(t, err, "a dispatcher announces webhook.disabled")
}

// An app may publish commands and nothing else; it cannot listen to
// events, requests or other roles' traffic.
func TestAppPublishesCommandsOnly(t *testing.T) {
	t.Parallel()
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, 4)
	ctx := context.Background()
	app := connect(t, url, natsauth.RoleApp)

	for _, subject := range []string{b.Names.RPC(1, "ch_x", "group.create"), b.Names.Webhook("we_x"), b.Names.WebhooksChanged(), "$JS.API.STREAM.DELETE." + b.Names.CmdStream()} {
		app.refusedPublish(t, subject)
	}
	_, err := app.nc.Subscribe(b.Names.EvtAll(), func(*nats.Msg) {})
	require.NoError(t, err)
	select {
	case err := <-app.errs:
		require.ErrorContains(t, err, "Permissions Violation for Subscription")
	case <-time.After(5 * time.Second):
		t.Fatal("subscribing to events was not refused")
	}

	// A command reaches WA_CMD through the APP account's import, with
	// JetStream's acknowledgement back to the app.
	js, err := jetstream.New(app.nc)
	require.NoError(t, err)
	ack, err := js.Publish(ctx, b.Names.Cmd("ch_x", "start"), []byte(`{}`), jetstream.WithMsgID("k1"))
	require.NoError(t, err)
	require.Equal(t, b.Names.CmdStream(), ack.Stream)

	// A worker's answer on an inbox under AppInboxPrefix reaches the app
	// (Wagate-Reply-To); other inboxes of WAGATE stay invisible.
	w := connect(t, url, natsauth.RoleWorker)
	inbox := natsauth.AppInboxPrefix + ".k1"
	sub, err := app.nc.SubscribeSync(inbox)
	require.NoError(t, err)
	other, err := app.nc.SubscribeSync("_INBOX.wagate")
	require.NoError(t, err)
	require.NoError(t, app.nc.Flush())
	require.NoError(t, w.nc.Publish("_INBOX.wagate", []byte(`secret`)))
	require.NoError(t, w.nc.Publish(inbox, []byte(`{"status":"accepted"}`)))
	m, err := sub.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.JSONEq(t, `{"status":"accepted"}`, string(m.Data))
	_, err = other.NextMsg(200 * time.Millisecond)
	require.ErrorIs(t, err, nats.ErrTimeout)
}

// Stream management: workers and dispatchers find the streams in shape
// and leave them alone; they may not change or delete them.
func TestOnlyTheAPIManagesStreams(t *testing.T) {
	t.Parallel()
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, 4)
	ctx := context.Background()
	w := connect(t, url, natsauth.RoleWorker)
	js, err := jetstream.New(w.nc)
	require.NoError(t, err)
	st, err := js.Stream(ctx, b.Names.EvtStream())
	require.NoError(t, err)
	cfg := st.CachedInfo().Config
	cfg.Subjects = append(cfg.Subjects, b.Names.WebhookAll()+".x")
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.UpdateStream(rctx, cfg)
	require.Error(t, err)
	require.Error(t, js.DeleteStream(rctx, b.Names.CmdStream()))
	_, err = b.JS.Stream(ctx, b.Names.CmdStream())
	require.NoError(t, err, "the stream is still there")
}

func TestCredsFileIsStandard(t *testing.T) {
	t.Parallel()
	a, err := natsauth.New()
	require.NoError(t, err)
	creds, err := a.Creds(natsauth.RoleApp, "")
	require.NoError(t, err)
	s := string(creds)
	require.Contains(t, s, "-----BEGIN NATS USER JWT-----")
	require.Contains(t, s, "-----BEGIN USER NKEY SEED-----")
	require.True(t, strings.Contains(s, "\nSU"), "a user seed")
	_, err = natsauth.ParseRole("root")
	require.Error(t, err)
}

// The keys persist: a second load of the data folder trusts the same
// credentials, so a restart keeps apps' creds valid.
func TestKeysPersistInTheDataFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := natsauth.LoadOrCreate(dir)
	require.NoError(t, err)
	b, err := natsauth.LoadOrCreate(dir)
	require.NoError(t, err)
	accounts := func(a *natsauth.Authority) string { return strings.SplitN(a.ServerConfig(), "\n", 2)[0] }
	require.Equal(t, accounts(a), accounts(b))
	fi, err := os.Stat(filepath.Join(dir, natsauth.KeysFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Contains(t, a.ServerConfig(), "resolver_preload")
}
