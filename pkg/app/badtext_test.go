package app_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// One tenant's bad text never fails another tenant's request: 150 sends
// with text Postgres cannot store (U+0000, a lone surrogate, invalid
// UTF-8) on one channel, concurrent with 150 good sends on another, are
// answered 400 invalid_text while every good one is 202. A NUL or invalid
// UTF-8 in a cursor or filter answers 400, not 500.
func TestBadTextFailsOnlyItsOwnSend(t *testing.T) {
	env := gatewayEnv(t)
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	admin := client{t: t, base: g.URL(), token: g.AdminToken()}
	newChannel := func(name string) (string, string) {
		code, ch := admin.do("POST", "/v1/channels", map[string]any{"name": name, "settings": map[string]any{"send_rate": "0", "warmup_days": 0}})
		require.Equal(t, http.StatusCreated, code, "%v", ch)
		return ch["id"].(string), ch["token"].(string)
	}
	badID, badToken := newChannel("bad")
	goodID, goodToken := newChannel("good")

	bad := [][]byte{
		[]byte(`{"to":"15550100001","type":"text","text":"nul \u0000 here"}`),
		[]byte(`{"to":"15550100001","type":"text","text":"lone \ud800 surrogate"}`),
		[]byte("{\"to\":\"15550100001\",\"type\":\"text\",\"text\":\"bad \xff utf8\"}"),
		[]byte(`{"to":"15550100001","type":"image","media":{"url":"https://example.com/a.png"},"caption":"\u0000"}`),
	}
	const n = 150
	type result struct {
		bad bool
		a   sendAnswer
		err error
	}
	results := make(chan result, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := post(g.URL(), badToken, "/v1/channels/"+badID+"/messages", bad[i%len(bad)], "")
			results <- result{true, a, err}
		})
		wg.Go(func() {
			body := fmt.Appendf(nil, `{"to":"1555020%04d","type":"text","text":"good %d"}`, i, i)
			a, err := post(g.URL(), goodToken, "/v1/channels/"+goodID+"/messages", body, fmt.Sprintf("good-%d", i))
			results <- result{false, a, err}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		require.NoError(t, r.err)
		if r.bad {
			require.Equal(t, http.StatusBadRequest, r.a.code, "%+v", r.a)
			require.Equal(t, "invalid_text", r.a.errCode)
			continue
		}
		require.Equal(t, http.StatusAccepted, r.a.code, "a good send failed: %+v", r.a)
	}
	require.Equal(t, n, messageCount(t, g), "every good send stored, no bad one")

	for _, q := range []string{"?before=msg_%00", "?before=msg_%ff", "?chat=%00", "?status=%00"} {
		code, body := admin.do("GET", "/v1/channels/"+goodID+"/messages"+q, nil)
		require.Equal(t, http.StatusBadRequest, code, "%s: %v", q, body)
		require.Equal(t, "invalid_text", body["error"].(map[string]any)["code"], q)
	}
	for _, p := range []string{"/v1/channels/" + goodID + "/history?before=%00", "/v1/webhooks/dead-letters?before=%00", "/v1/channels?before=%00"} {
		code, body := admin.do("GET", p, nil)
		require.Equal(t, http.StatusBadRequest, code, "%s: %v", p, body)
	}
}
