package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// linkChannelAPI creates a simulator channel through the API and links it
// with a simulated scan; it returns once the channel is active.
func linkChannelAPI(t *testing.T, b *browserEnv, name string) string {
	t.Helper()
	id := createChannelAPI(t, b.gw, name)
	post(t, b.gw, "/v1/channels/"+id+"/start", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, b.gw, http.MethodGet, "/v1/channels/"+id, "")["state"] == "qr_pending"
	}, 15*time.Second, 50*time.Millisecond, "the QR code")
	post(t, b.gw, "/v1/sim/channels/"+id+"/scan", `{}`)
	b.waitJS("the channel active", badgeState(id)+` === "active"`, 15*time.Second)
	return id
}

func TestFailingEndpoint500VisibleInItsLog(t *testing.T) {
	requireChromium(t)
	// A remote endpoint that fails every delivery with a 500.
	var hits atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("database on fire"))
	}))
	t.Cleanup(remote.Close)
	g := startGateway(t, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
	b := newBrowser(t, g, "delivery-log")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Orders")
	hook := apiJSON(t, g, http.MethodPost, "/v1/channels/"+id+"/webhooks",
		fmt.Sprintf(`{"url":%q,"events":["message.received"]}`, remote.URL+"/hook"))["id"].(string)

	// More deliveries than a page holds: most wait behind the failing ones.
	for i := range 25 {
		post(t, g, "/v1/sim/channels/"+id+"/inbound", fmt.Sprintf(`{"from":"+15550007%03d","text":"order %d"}`, i, i))
	}
	require.Eventually(t, func() bool { return hits.Load() >= 2 }, 30*time.Second, 100*time.Millisecond, "the endpoint is called")
	// The dispatcher records the deliveries as it consumes the events; on a
	// loaded machine it may still be doing so. The log is opened once all 25
	// are recorded, since with no further events nothing would reload it.
	require.Eventually(t, func() bool {
		page := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks/"+hook+"/deliveries?limit=100", "")
		data, _ := page["data"].([]any)
		return len(data) >= 25
	}, 30*time.Second, 100*time.Millisecond, "all 25 deliveries recorded")

	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	box := fmt.Sprintf("#deliveries-%s", hook)
	b.click(fmt.Sprintf(`.endpoint[data-id=%q] [aria-controls="deliveries-%s"]`, hook, hook))
	b.waitJS("a full first page", fmt.Sprintf(`document.querySelectorAll("%s tbody tr").length === 20`, box), 20*time.Second)
	b.screenshot("log-first-page")

	// Older deliveries are a click away.
	b.click(box + " .delivery-older")
	b.waitJS("the second page", fmt.Sprintf(`document.querySelectorAll("%s tbody tr").length === 5 && !document.querySelector("%s .delivery-newer").disabled`, box, box), 10*time.Second)
	b.click(box + " .delivery-newer")
	b.waitJS("the first page again", fmt.Sprintf(`document.querySelectorAll("%s tbody tr").length === 20`, box), 10*time.Second)

	// Filtered to the failed ones: the 500, its answer, and when it is tried next.
	b.do(evalVoid(fmt.Sprintf(`document.querySelector("%s .delivery-status").value = "failed"`, box)),
		evalVoid(fmt.Sprintf(`document.querySelector("%s .delivery-status").dispatchEvent(new Event("change"))`, box)))
	b.waitJS("the failed deliveries", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll("%s tbody tr")];
		return rows.length > 0 && rows.every((r) => r.dataset.status === "failed");
	})()`, box), 20*time.Second)
	row := box + " tbody tr:first-child"
	require.Contains(t, b.text(row+" .last-answer"), "HTTP 500")
	require.Contains(t, b.text(row+" .last-answer"), "database on fire")
	require.NotEqual(t, "—", b.text(row+" .next-attempt"), "the next attempt time is shown")
	require.True(t, eval[bool](b, fmt.Sprintf(`document.querySelector("%s .next-attempt time") !== null`, row)))
	b.screenshot("log-failed-500")
	require.Empty(t, b.consoleErrors(), "console errors")
}
