package dashboard_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func TestChannelSettingsAndTestSendFromTheDashboard(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "channel-settings")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Settings line")
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	b.click("#settings-details summary")

	// A rate the API cannot read: its error shows under the rate.
	b.setValue("#set-send-rate", "fast")
	b.click("#settings-save")
	b.waitJS("the rate's error", `!document.querySelector('[data-error-for="settings.send_rate"]').hidden`, 10*time.Second)
	require.Equal(t, loadCatalogs(t)["en"]["field.send_rate"], b.text(`[data-error-for="settings.send_rate"]`), "the page's sentence, not the server's English")
	b.screenshot("rate-refused")

	// Every setting at once.
	b.setValue("#set-name", "Renamed line")
	b.setValue("#set-send-rate", "30/m")
	b.setValue("#set-warmup", "0")
	b.setValue("#set-max-queue", "50")
	b.setValue("#set-typing", "500")
	b.setValue("#set-history", "10")
	b.click("#set-online")
	b.click("#set-reject-calls")
	b.setValue("#set-reject-reply", "Busy, text me")
	b.click("#set-media-audio")
	b.click("#set-media-video")
	b.setValue("#set-media-max", "2")
	b.click("#settings-save")
	b.waitJS("the new name in the title", `document.querySelector("#ch-title").textContent === "Renamed line"`, 10*time.Second)
	ch := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")
	require.Equal(t, "Renamed line", ch["name"])
	require.Equal(t, map[string]any{
		"send_rate": "30/m", "warmup_days": float64(0), "max_queue": float64(50), "typing_ms": float64(500),
		"history_days": float64(10), "presence": map[string]any{"online": false},
		"reject_calls": true, "reject_calls_reply": "Busy, text me",
		"media": map[string]any{"auto_download": map[string]any{"types": []any{"image", "document", "video"}, "max_bytes": float64(2 << 20)}},
	}, ch["settings"])
	b.screenshot("settings-saved")

	// An emptied field returns to the default; the form reads the channel
	// again after a reload.
	b.setValue("#set-max-queue", "")
	b.setValue("#set-typing", "")
	b.click("#settings-save")
	require.Eventually(t, func() bool {
		s := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["settings"].(map[string]any)
		_, queue := s["max_queue"]
		_, typing := s["typing_ms"]
		return !queue && !typing
	}, 10*time.Second, 100*time.Millisecond, "max_queue and typing_ms back to their defaults")
	b.do(chromedp.Reload())
	b.click("#settings-details summary")
	require.Equal(t, "30/m", eval[string](b, `document.querySelector("#set-send-rate").value`))
	require.Equal(t, "", eval[string](b, `document.querySelector("#set-max-queue").value`))
	require.False(t, eval[bool](b, `document.querySelector("#set-online").checked`))
	require.True(t, eval[bool](b, `document.querySelector("#set-media-video").checked`))
	require.Equal(t, "Busy, text me", eval[string](b, `document.querySelector("#set-reject-reply").value`))

	// A test message: a bad recipient is refused at its field; a good one
	// shows its status as it changes; a number not on WhatsApp fails.
	b.setValue("#send-to", "not a number")
	b.click("#send-submit")
	b.waitJS("the recipient's error", `!document.querySelector('#send-form [data-error-for="to"]').hidden`, 10*time.Second)
	b.setValue("#send-to", "+15550001111")
	b.click("#send-submit")
	b.waitJS("the message sent", `["sent", "delivered", "read"].includes(document.querySelector("#send-status")?.dataset.status)`, 30*time.Second)
	msg := eval[string](b, `document.querySelector("#send-result code").textContent`)
	require.Regexp(t, `^msg_`, msg)
	require.Contains(t, []string{"sent", "delivered", "read"}, apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/messages/"+msg, "")["status"])
	b.screenshot("test-message-sent")
	b.setValue("#send-to", "+15550000000")
	b.click("#send-submit")
	b.waitJS("the second message's id", fmt.Sprintf(`(document.querySelector("#send-result code")?.textContent || %q) !== %q`, msg, msg), 10*time.Second)
	if err := b.tryJS(`document.querySelector("#send-status")?.dataset.status === "failed"`, 30*time.Second); err != nil {
		failed := eval[string](b, `document.querySelector("#send-result code").textContent`)
		t.Fatalf("the message to a number not on WhatsApp not shown failed (%v): the page shows %q, the API says %v; live stream %q; console errors %q",
			err, eval[string](b, `document.querySelector("#send-status")?.dataset.status || ""`),
			apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/messages/"+failed, ""),
			eval[string](b, `document.querySelector("#live")?.dataset.state || ""`), b.consoleErrors())
	}
	b.screenshot("test-message-failed")

	// A proxy (last: a change restarts the channel): refused at its field
	// when it is no proxy URL; stored and shown masked otherwise; left
	// alone when the masked value is not touched; removed when emptied.
	b.setValue("#set-proxy", "ftp://proxy.example:21")
	b.click("#settings-save")
	b.waitJS("the proxy's error", `!document.querySelector('[data-error-for="settings.proxy"]').hidden`, 10*time.Second)
	b.setValue("#set-proxy", "socks5://user:s3cret@127.0.0.1:1080")
	b.click("#settings-save")
	b.waitJS("the masked proxy in the form", `document.querySelector("#set-proxy")?.value === "socks5://user:***@127.0.0.1:1080"`, 10*time.Second)
	require.Equal(t, "socks5://user:***@127.0.0.1:1080", apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["settings"].(map[string]any)["proxy"])
	b.setValue("#set-history", "11")
	b.click("#settings-save")
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["settings"].(map[string]any)["history_days"] == float64(11)
	}, 10*time.Second, 100*time.Millisecond, "history_days saved")
	require.Equal(t, "socks5://user:***@127.0.0.1:1080", apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["settings"].(map[string]any)["proxy"], "the untouched proxy is kept")
	b.screenshot("proxy-masked")
	b.setValue("#set-proxy", "")
	b.click("#settings-save")
	require.Eventually(t, func() bool {
		_, ok := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["settings"].(map[string]any)["proxy"]
		return !ok
	}, 10*time.Second, 100*time.Millisecond, "the proxy removed")
	require.Empty(t, b.unexpectedErrors(), "console errors")
}
