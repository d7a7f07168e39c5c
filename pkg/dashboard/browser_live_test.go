package dashboard_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestChannelCreatedThroughTheAPIAppearsLive(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "live-list")
	b.signIn(g.AdminToken(), "")
	b.do(evalVoid(`window.__noReload = true`))

	// Created elsewhere and never started: it appears, with no health score.
	quiet := createChannelAPI(t, g, "Created by a script")
	b.waitJS("the channel created through the API", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, quiet), 20*time.Second)
	b.waitJS("no data instead of a score", fmt.Sprintf(`document.querySelector('tr[data-id=%q] .no-data')?.textContent === "no data"`, quiet), 10*time.Second)

	// Created and started elsewhere: it appears and follows its state.
	busy := createChannelAPI(t, g, "Started by a script")
	post(t, g, "/v1/channels/"+busy+"/start", `{}`)
	b.waitJS("the started channel", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, busy), 20*time.Second)
	post(t, g, "/v1/channels/"+busy+"/stop", `{}`)
	b.waitJS("the channel stopped", badgeState(busy)+` === "inactive"`, 20*time.Second)
	reason := fmt.Sprintf(`document.querySelector('tr[data-id=%q] .reason').textContent`, busy)
	first := eval[string](b, reason)
	require.Contains(t, first, "stopped")
	b.screenshot("created-elsewhere")

	// "now" becomes "… seconds ago" without any event.
	b.waitJS("the relative time to tick", fmt.Sprintf(`%s !== %q && %s === "inactive"`, reason, first, badgeState(busy)), 25*time.Second)
	require.Regexp(t, `seconds? ago`, eval[string](b, reason))
	require.False(t, eval[bool](b, fmt.Sprintf(`document.querySelector('tr[data-id=%q] .no-data') !== null`, busy)), "a channel that ran is scored")
	require.True(t, eval[bool](b, `window.__noReload === true`), "the page was not reloaded")
	b.screenshot("time-ticked")
	require.Empty(t, b.consoleErrors(), "console errors")
}
