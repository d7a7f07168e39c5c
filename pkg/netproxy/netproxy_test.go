package netproxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/netproxy"
	"github.com/wagate/wagate/pkg/netproxy/proxytest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want, masked string }{
		{"socks5 with credentials", "socks5://user:s3cret@proxy.example:1080", "socks5://user:s3cret@proxy.example:1080", "socks5://user:***@proxy.example:1080"},
		{"socks5 default port", "socks5://proxy.example", "socks5://proxy.example:1080", "socks5://proxy.example:1080"},
		{"http default port", "http://10.0.0.1", "http://10.0.0.1:80", "http://10.0.0.1:80"},
		{"https default port", "HTTPS://u:p@proxy.example/", "https://u:p@proxy.example:443", "https://u:***@proxy.example:443"},
		{"user without password", "http://user@proxy.example:3128", "http://user@proxy.example:3128", "http://user@proxy.example:3128"},
		{"IPv6 host", "socks5://[::1]:9050", "socks5://[::1]:9050", "socks5://[::1]:9050"},
		{"escaped password", "socks5://u:p%40ss@h:1", "socks5://u:p%40ss@h:1", "socks5://u:***@h:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := netproxy.Parse(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, u.String())
			require.Equal(t, tc.masked, netproxy.Mask(u))
		})
	}
	for _, tc := range []struct{ name, in, says string }{
		{"unknown scheme", "ftp://proxy.example:21", `scheme "ftp"`},
		{"socks4", "socks4://proxy.example:1080", `scheme "socks4"`},
		{"no scheme", "proxy.example:1080", "scheme"},
		{"no host", "socks5://:1080", "no host"},
		{"path", "http://proxy.example:3128/x", "no path"},
		{"query", "http://proxy.example:3128?a=b", "no path"},
		{"port out of range", "socks5://proxy.example:70000", "port"},
		{"port zero", "socks5://proxy.example:0", "port"},
		{"empty user", "socks5://:pw@proxy.example:1080", "user name"},
		{"not a URL", "socks5://a b:1", "URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := netproxy.Parse(tc.in)
			require.ErrorIs(t, err, netproxy.ErrInvalid)
			require.Contains(t, err.Error(), tc.says)
			require.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestDial(t *testing.T) {
	t.Parallel()
	const target = "web.whatsapp.com:443"
	for _, tc := range []struct {
		name  string
		start func(testing.TB, ...proxytest.Option) *proxytest.Proxy
	}{{"socks5", proxytest.SOCKS5}, {"http", proxytest.HTTP}} {
		t.Run(tc.name+" accepted with credentials", func(t *testing.T) {
			p := tc.start(t, proxytest.Accept(), proxytest.Auth("alice", "s3cret"))
			u, err := netproxy.Parse(strings.Replace(p.URL, "://", "://alice:s3cret@", 1))
			require.NoError(t, err)
			conn, err := netproxy.Dial(t.Context(), u, target, 5*time.Second)
			require.NoError(t, err)
			require.NoError(t, conn.Close())
			require.Equal(t, []proxytest.Connect{{Target: target, User: "alice", Password: "s3cret"}}, p.Connects())
		})
		t.Run(tc.name+" wrong credentials", func(t *testing.T) {
			p := tc.start(t, proxytest.Accept(), proxytest.Auth("alice", "s3cret"))
			u, err := netproxy.Parse(strings.Replace(p.URL, "://", "://alice:wrong@", 1))
			require.NoError(t, err)
			_, err = netproxy.Dial(t.Context(), u, target, 5*time.Second)
			require.Error(t, err)
			require.Len(t, p.Connects(), 1)
			require.Equal(t, "wrong", p.Connects()[0].Password)
		})
		t.Run(tc.name+" refused", func(t *testing.T) {
			p := tc.start(t)
			u, err := netproxy.Parse(p.URL)
			require.NoError(t, err)
			_, err = netproxy.Dial(t.Context(), u, target, 5*time.Second)
			require.Error(t, err)
			require.Equal(t, []proxytest.Connect{{Target: target}}, p.Connects())
		})
	}
	t.Run("dead proxy", func(t *testing.T) {
		// Port 1: nothing listens there.
		u, err := netproxy.Parse("socks5://127.0.0.1:1")
		require.NoError(t, err)
		dead := *u
		for _, scheme := range []string{"socks5", "http"} {
			dead.Scheme = scheme
			_, err = netproxy.Dial(t.Context(), &dead, target, 5*time.Second)
			require.Error(t, err)
			require.Contains(t, err.Error(), "connection refused")
			var want string
			if scheme == "socks5" {
				want = "socks connect"
			} else {
				want = "proxyconnect"
			}
			require.Contains(t, err.Error(), want)
		}
	})
}
