package dashboard_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func TestErrorStatesExplained(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "error-states")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Banned line")
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	b.waitJS("the channel page", `document.querySelector("#state-help") !== null`, 10*time.Second)

	// A temporary ban: what it means, when it ends, and no Start button.
	post(t, g, "/v1/sim/channels/"+id+"/ban", `{"seconds":7200}`)
	b.waitJS("the explanation of the ban", `!document.querySelector("#state-help").hidden && /banned/.test(document.querySelector("#state-help").textContent)`, 20*time.Second)
	require.Contains(t, b.text("#state-help"), "The ban ends")
	require.Contains(t, b.text("#state-help"), "in 2 hours")
	require.False(t, eval[bool](b, `document.querySelector('.ch-head .btn-primary[data-action="start"]') !== null`), "no Start as the main action of a banned channel")
	b.screenshot("banned")

	// The channel resource keeps the ban's end: after a reload (no event
	// tells it any more) the page still says when the ban ends.
	require.NotEmpty(t, apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state_expires_at"], "the channel carries the ban's end")
	b.do(chromedp.Reload())
	b.waitJS("the explanation after a reload", `((e) => e && !e.hidden && /banned/.test(e.textContent))(document.querySelector("#state-help"))`, 20*time.Second)
	require.Contains(t, b.text("#state-help"), "The ban ends")
	require.Contains(t, b.text("#state-help"), "in 2 hours")
	b.screenshot("banned-after-reload")
	require.Empty(t, b.consoleErrors(), "console errors")
}
