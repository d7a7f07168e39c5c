package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/netproxy/proxytest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
)

// settings.proxy reaches the channel's session: the simulated connection
// goes through the proxy with the credentials given to the API, a change
// reconnects through the new proxy, a dead proxy leaves the channel in
// error with reason proxy_unreachable (the whatsmeow driver's outcome), and
// removing it connects directly again.
func TestChannelConnectsThroughItsProxy(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	cc := newConformingClient(t, g.URL())

	p := proxytest.SOCKS5(t, proxytest.Accept(), proxytest.Auth("alice", "s3cret"))
	withCreds := strings.Replace(p.URL, "://", "://alice:s3cret@", 1)
	masked := strings.Replace(p.URL, "://", "://alice:***@", 1)
	id := pairedChannel(t, api, map[string]any{"proxy": withCreds})
	want := proxytest.Connect{Target: sim.WebsocketHost, User: "alice", Password: "s3cret"}
	require.NotEmpty(t, p.Connects())
	for _, c := range p.Connects() {
		require.Equal(t, want, c)
	}
	ch := cc.expect(call{method: "GET", path: "/v1/channels/" + id, token: api.token}, http.StatusOK, "").json(t)
	require.Equal(t, masked, ch["settings"].(map[string]any)["proxy"])

	// Another proxy: the running channel reconnects through it.
	h := proxytest.HTTP(t, proxytest.Accept())
	cc.expect(call{method: "PATCH", path: "/v1/channels/" + id, token: api.token,
		body: map[string]any{"settings": map[string]any{"proxy": h.URL}}}, http.StatusOK, "")
	testenv.Eventually(t, 15*time.Second, func() bool { return len(h.Connects()) > 0 }, "a connection through the new proxy")
	api.waitState(id, "active")
	require.Equal(t, proxytest.Connect{Target: sim.WebsocketHost}, h.Connects()[0])

	// A dead proxy: error, proxy_unreachable, the dial error as detail.
	cc.expect(call{method: "PATCH", path: "/v1/channels/" + id, token: api.token,
		body: map[string]any{"settings": map[string]any{"proxy": "socks5://bob:pw@127.0.0.1:1"}}}, http.StatusOK, "")
	testenv.Eventually(t, 15*time.Second, func() bool {
		_, ch := api.do("GET", "/v1/channels/"+id, nil)
		return ch["state"] == "error" && ch["state_reason"] == "proxy_unreachable"
	}, "the channel in error with reason proxy_unreachable")
	_, hist := api.do("GET", "/v1/channels/"+id+"/history", nil)
	last := hist["data"].([]any)[0].(map[string]any)
	require.Equal(t, "proxy_unreachable", last["reason"])
	require.Contains(t, last["detail"], "refused")
	require.NotContains(t, last["detail"], "pw")

	// No proxy: connected directly again.
	cc.expect(call{method: "PATCH", path: "/v1/channels/" + id, token: api.token,
		body: map[string]any{"settings": map[string]any{"proxy": nil}}}, http.StatusOK, "")
	api.waitState(id, "active")
}
