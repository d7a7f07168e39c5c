package dashboard_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWebhookPausedAndDeletedFromTheDashboard(t *testing.T) {
	requireChromium(t)
	g := startGateway(t, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
	b := newBrowser(t, g, "webhooks")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Hooks")
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550004321","text":"count me"}`)
	b.waitJS("the totals", `/· \d+ sent today · 0 failing$/.test(document.querySelector("#channels-count").textContent)`, 10*time.Second)
	hook := apiJSON(t, g, http.MethodPost, "/v1/channels/"+id+"/webhooks", `{"url":"http://127.0.0.1:1/hook"}`)["id"].(string)

	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	sel := fmt.Sprintf(`.endpoint[data-id=%q]`, hook)
	b.click(sel + " .hook-pause")
	b.waitJS("the endpoint paused", fmt.Sprintf(`document.querySelector('%s .hook-pause')?.textContent === "Resume"`, sel), 10*time.Second)
	require.Equal(t, false, apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks/"+hook, "")["enabled"])
	b.screenshot("paused")
	b.click(sel + " .hook-pause")
	b.waitJS("the endpoint resumed", fmt.Sprintf(`document.querySelector('%s .hook-pause')?.textContent === "Pause"`, sel), 10*time.Second)
	require.Equal(t, true, apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks/"+hook, "")["enabled"])

	b.click(sel + " .hook-delete")
	b.click("#confirm-ok")
	b.waitJS("the endpoint gone", fmt.Sprintf(`document.querySelector('%s') === null`, sel), 10*time.Second)
	require.Empty(t, apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks", "")["data"])
	require.Empty(t, b.consoleErrors(), "console errors")
}
