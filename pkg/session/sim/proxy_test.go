package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/netproxy/proxytest"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
)

func openProxied(t *testing.T, d session.Driver, channelID, jid, proxy string) (*sim.Session, *sessiontest.Recorder) {
	t.Helper()
	rec := sessiontest.NewRecorder()
	s, err := d.Open(context.Background(), session.Options{ChannelID: channelID, JID: jid, Sink: rec, Proxy: proxy})
	require.NoError(t, err)
	t.Cleanup(s.Disconnect)
	return s.(*sim.Session), rec
}

// A simulated channel connects through its proxy as the whatsmeow driver
// does: a CONNECT to WhatsApp's websocket host with the credentials; a
// proxy that refuses it, or is dead, ends the attempt as the whatsmeow
// driver's does.
func TestConnectionsGoThroughTheProxy(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)

	// A working proxy: the pairing and, once paired, the connection go
	// through it.
	p := proxytest.SOCKS5(t, proxytest.Accept(), proxytest.Auth("alice", "s3cret"))
	url := strings.Replace(p.URL, "://", "://alice:s3cret@", 1)
	ch := channel()
	s, rec := openProxied(t, d, ch, "", url)
	require.Equal(t, strings.Replace(p.URL, "://", "://alice:***@", 1), s.Proxy())
	connect(t, s)
	sessiontest.Expect[session.QR](t, rec, wait)
	control(t, s, sim.ActionScan, `{}`)
	ok := sessiontest.Expect[session.PairSuccess](t, rec, wait)
	sessiontest.Expect[session.Connected](t, rec, wait)
	want := proxytest.Connect{Target: sim.WebsocketHost, User: "alice", Password: "s3cret"}
	require.Equal(t, []proxytest.Connect{want}, p.Connects())
	s.Disconnect()
	s2, rec2 := openProxied(t, d, ch, ok.JID, url)
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	require.Equal(t, []proxytest.Connect{want, want}, p.Connects())
	s2.Disconnect()

	// Refused, wrong credentials, dead: proxy_unreachable, retryable, and
	// nothing connects.
	refusing := proxytest.HTTP(t)
	for _, bad := range []string{refusing.URL, strings.Replace(p.URL, "://", "://alice:wrong@", 1), "socks5://127.0.0.1:1"} {
		s3, rec3 := openProxied(t, d, ch, ok.JID, bad)
		connect(t, s3)
		cf := sessiontest.Expect[session.ConnectFailure](t, rec3, wait)
		require.Equal(t, state.ReasonProxyUnreachable, cf.Reason, bad)
		require.True(t, cf.Retryable)
		require.NotContains(t, cf.Message, "wrong")
		rec3.Quiet(t, quiet)
		s3.Disconnect()
	}
	require.Equal(t, []proxytest.Connect{{Target: sim.WebsocketHost}}, refusing.Connects())

	// A URL no proxy can have fails every attempt, not retried.
	s4, rec4 := openProxied(t, d, ch, ok.JID, "ftp://proxy.example")
	connect(t, s4)
	cf := sessiontest.Expect[session.ConnectFailure](t, rec4, wait)
	require.Equal(t, state.ReasonProxyUnreachable, cf.Reason)
	require.False(t, cf.Retryable)
}
