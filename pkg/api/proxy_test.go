package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/secretbox"
)

// storedProxy opens the sealed proxy URL of a channel.
func (b *bundle) storedProxy(id string) string {
	b.t.Helper()
	var sealed string
	require.NoError(b.t, b.store.Pool.QueryRow(context.Background(), `SELECT proxy FROM channels WHERE id = $1`, id).Scan(&sealed))
	if sealed == "" {
		return ""
	}
	require.True(b.t, secretbox.Sealed(sealed), "the proxy is stored sealed: %s", sealed)
	plain, err := b.box.Open(sealed)
	require.NoError(b.t, err)
	return plain
}

func TestProxySetting(t *testing.T) {
	t.Parallel()
	b := setup(t, options{})
	const secret = "s3cr3t-pa55"

	// Created with a proxy: shown masked, stored sealed, whole.
	r := b.post("/v1/channels", b.admin, map[string]any{"name": "Proxied", "driver": "sim",
		"settings": map[string]any{"proxy": "socks5://alice:" + secret + "@proxy.example:1080"}})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json(t)["id"].(string)
	require.Equal(t, map[string]any{"proxy": "socks5://alice:***@proxy.example:1080"}, r.json(t)["settings"])
	require.NotContains(t, string(r.body), secret)
	require.Equal(t, "socks5://alice:"+secret+"@proxy.example:1080", b.storedProxy(id))
	require.NotContains(t, b.snapshot(), secret, "the password is nowhere in the channels table in the clear")

	for _, path := range []string{"/v1/channels/" + id, "/v1/channels"} {
		r = b.get(path, b.admin)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.NotContains(t, string(r.body), secret, path)
		require.Contains(t, string(r.body), `socks5://alice:***@proxy.example:1080`, path)
	}

	// Bad URLs: 400 invalid_proxy naming the field, nothing changed.
	before := b.snapshot()
	for _, bad := range []string{"ftp://proxy.example:21", "socks4://proxy.example:1080", "socks5://", "http://proxy.example:3128/path", "socks5://proxy.example:99999", "proxy.example:1080"} {
		r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"settings": map[string]any{"proxy": bad}}})
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", bad, r.body)
		e := r.json(t)["error"].(map[string]any)
		require.Equal(t, "invalid_proxy", e["code"], bad)
		require.Equal(t, map[string]any{"field": "settings.proxy"}, e["details"], bad)
	}
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: `{"settings": {"proxy": 1080}}`})
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Equal(t, "invalid_field_type", r.json(t)["error"].(map[string]any)["code"])
	// The mask sent back for another proxy is refused; sent back as read,
	// it keeps the stored password.
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"settings": map[string]any{"proxy": "socks5://alice:***@other.example:1080"}}})
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Equal(t, "invalid_proxy", r.json(t)["error"].(map[string]any)["code"])
	require.Equal(t, before, b.snapshot())
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"name": "Proxied too", "settings": map[string]any{"proxy": "socks5://alice:***@proxy.example:1080"}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "socks5://alice:"+secret+"@proxy.example:1080", b.storedProxy(id))

	// A running channel whose proxy changes is restarted for it; one whose
	// proxy stays is not.
	r = b.post("/v1/channels/"+id+"/start", b.admin, nil)
	require.Equal(t, http.StatusAccepted, r.status, "%s", r.body)
	require.Equal(t, command.Start, b.commands(1)[0].verb)
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"settings": map[string]any{"proxy": "HTTP://bob:pw@10.1.2.3:3128"}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "http://bob:***@10.1.2.3:3128", r.json(t)["settings"].(map[string]any)["proxy"])
	require.Equal(t, "http://bob:pw@10.1.2.3:3128", b.storedProxy(id))
	cmds := b.commands(1)
	require.Equal(t, command.Restart, cmds[0].verb)
	require.Equal(t, id, cmds[0].channel)
	seq := b.published()
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"settings": map[string]any{"typing_ms": 10}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, seq, b.published(), "no restart when the proxy did not change")

	// Removed with null (and with settings: null): gone from both places.
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: `{"settings": {"proxy": null}}`})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, map[string]any{"typing_ms": float64(10)}, r.json(t)["settings"])
	require.Empty(t, b.storedProxy(id))
	require.Equal(t, command.Restart, b.commands(1)[0].verb)
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: map[string]any{"settings": map[string]any{"proxy": "socks5://h:1"}}})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "socks5://h:1", b.storedProxy(id))
	r = b.do(req{method: http.MethodPatch, path: "/v1/channels/" + id, token: b.admin, body: `{"settings": null}`})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Empty(t, b.storedProxy(id))
}
