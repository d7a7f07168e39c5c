package whatsmeow

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/store"

	"github.com/wagate/wagate/pkg/netproxy/proxytest"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

// openProxied opens a session of d whose connections go through proxy.
func openProxied(t *testing.T, d *Driver, jid, proxy string) (*Session, *sessiontest.Recorder) {
	t.Helper()
	rec := sessiontest.NewRecorder()
	s, err := d.Open(context.Background(), session.Options{ChannelID: "ch_" + testenv.Unique(), JID: jid, Sink: rec, Proxy: proxy})
	require.NoError(t, err)
	t.Cleanup(s.Disconnect)
	return s.(*Session), rec
}

// withCredentials puts user:pass into a proxy URL.
func withCredentials(url, user, pass string) string {
	return strings.Replace(url, "://", "://"+user+":"+pass+"@", 1)
}

// The proxy test servers have no internet: they record the CONNECT and
// refuse it, so every attempt ends in a retryable proxy_unreachable; what
// matters is what the proxy was asked for and with which credentials.
func TestConnectionsGoThroughTheChannelsProxy(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t, Config{})
	for _, tc := range []struct {
		name   string
		start  func(testing.TB, ...proxytest.Option) *proxytest.Proxy
		user   string
		pass   string
		paired bool
	}{
		{name: "SOCKS5 with user and password, pairing", start: proxytest.SOCKS5, user: "alice", pass: "s3cret"},
		{name: "SOCKS5 without credentials, logged in", start: proxytest.SOCKS5, paired: true},
		{name: "HTTP CONNECT with user and password, pairing", start: proxytest.HTTP, user: "bob", pass: "pa:ss"},
		{name: "HTTP CONNECT without credentials, logged in", start: proxytest.HTTP, paired: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []proxytest.Option
			if tc.user != "" {
				opts = append(opts, proxytest.Auth(tc.user, tc.pass))
			}
			p := tc.start(t, opts...)
			url := p.URL
			if tc.user != "" {
				url = withCredentials(p.URL, tc.user, tc.pass)
			}
			jid := ""
			if tc.paired {
				jid = storeDevice(t, d.container).String()
			}
			s, rec := openProxied(t, d, jid, url)
			connect(t, s)
			cf := sessiontest.Expect[session.ConnectFailure](t, rec, wait)
			require.Equal(t, state.ReasonProxyUnreachable, cf.Reason, cf.Message)
			require.True(t, cf.Retryable)
			got := p.Connects()
			require.NotEmpty(t, got)
			// The websocket of whatsmeow (socket.URL) is wss://web.whatsapp.com/ws/chat.
			require.Equal(t, proxytest.Connect{Target: "web.whatsapp.com:443", User: tc.user, Password: tc.pass}, got[0])
		})
	}
}

func TestADeadProxyIsProxyUnreachable(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	for _, url := range []string{"socks5://127.0.0.1:1", "http://u:p@127.0.0.1:1"} {
		s, rec := openProxied(t, d, "", url)
		connect(t, s)
		cf := sessiontest.Expect[session.ConnectFailure](t, rec, wait)
		require.Equal(t, state.ReasonProxyUnreachable, cf.Reason)
		require.True(t, cf.Retryable)
		require.Contains(t, cf.Message, "connection refused", url)
		require.NotContains(t, cf.Message, "u:p", "no credentials in the failure")
	}
}

// Media uploads and downloads use whatsmeow's media client, which the
// proxy covers too; the clients shared by the driver's other sessions do
// not change.
func TestMediaGoesThroughTheProxyAndOtherSessionsDoNot(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	ws, media := d.ws.Transport, d.cfg.MediaHTTPClient.Transport
	p := proxytest.SOCKS5(t, proxytest.Auth("carol", "pw"))
	cli, err := d.newClient(&store.Device{}, newWALogger(d.cfg.Logger, false), withCredentials(p.URL, "carol", "pw"))
	require.NoError(t, err)
	//lint:ignore SA1019 the one way to make whatsmeow's media client fetch a URL without a connection
	resp, err := cli.DangerousInternals().DoMediaDownloadRequest(t.Context(), "https://mmg.whatsapp.net/v/t62.7118-24/1.enc")
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the proxy refuses")
	require.Equal(t, []proxytest.Connect{{Target: "mmg.whatsapp.net:443", User: "carol", Password: "pw"}}, p.Connects())
	require.Same(t, ws, d.ws.Transport, "the shared websocket client keeps its transport")
	require.Same(t, media, d.cfg.MediaHTTPClient.Transport, "the shared media client keeps its transport")

	direct, err := d.newClient(&store.Device{}, newWALogger(d.cfg.Logger, false), "")
	require.NoError(t, err)
	//lint:ignore SA1019 as above
	_, err = direct.DangerousInternals().DoMediaDownloadRequest(t.Context(), "http://127.0.0.1:1/x")
	require.Error(t, err)
	require.Len(t, p.Connects(), 1, "a session without a proxy does not use another's")
}
