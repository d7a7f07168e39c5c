package ssrf_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ssrf"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	refused := []string{
		"127.0.0.1", "127.8.9.10", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
		"192.168.1.1", "100.64.0.1", "100.127.255.255", "169.254.169.254", "169.254.0.1",
		"0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:a00:1::1",
		"::7f00:1", "::a00:1", "::ffff:0:a00:1", "2001:0:4136:e378::1", "2001:2::1", "2001:db8::1", "3fff::1", "5f00::1",
	}
	allowed := []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8"}
	g := ssrf.Guard{}
	for _, a := range refused {
		require.ErrorIs(t, g.CheckAddr(netip.MustParseAddr(a)), ssrf.ErrRefused, a)
	}
	for _, a := range allowed {
		require.NoError(t, g.CheckAddr(netip.MustParseAddr(a)), a)
	}
	for _, a := range refused {
		require.NoError(t, ssrf.Guard{AllowPrivate: true}.CheckAddr(netip.MustParseAddr(a)), a)
	}
}

// The guard that matters runs when connecting, on the resolved address: a
// name that resolves to loopback is refused just like the IP literal.
func TestDialerRefusesLoopbackAtConnect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	client := func(g ssrf.Guard) *http.Client {
		return &http.Client{Transport: &http.Transport{DialContext: g.Dialer(2 * time.Second).DialContext}}
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		resp, err := client(ssrf.Guard{}).Get("http://" + net.JoinHostPort(host, port))
		if resp != nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, ssrf.ErrRefused, host)
	}
	resp, err := client(ssrf.Guard{AllowPrivate: true}).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := ssrf.Guard{}
	for _, h := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "localhost"} {
		require.ErrorIs(t, g.CheckHost(ctx, net.DefaultResolver, h), ssrf.ErrRefused, h)
	}
	require.NoError(t, g.CheckHost(ctx, net.DefaultResolver, "8.8.8.8"))
	require.ErrorIs(t, g.CheckHost(ctx, net.DefaultResolver, "no-such-host.invalid"), ssrf.ErrUnresolvable)
	require.NoError(t, ssrf.Guard{AllowPrivate: true}.CheckHost(ctx, net.DefaultResolver, "localhost"))
}
