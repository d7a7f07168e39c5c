package dashboard_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func TestLiveEventMonitor(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "event-monitor")
	b.signIn(g.AdminToken(), "")
	one := linkChannelAPI(t, b, "Monitor one")
	two := linkChannelAPI(t, b, "Monitor two")
	b.click("#nav-events")
	b.do(chromedp.WaitVisible(chromedp.CSS("#monitor-log")))
	count := func(sel string) string {
		return fmt.Sprintf(`document.querySelectorAll(%q).length`, "#monitor-log "+sel)
	}

	// Events of every channel arrive.
	post(t, g, "/v1/sim/channels/"+one+"/inbound", `{"from":"+15550005001","text":"to one"}`)
	post(t, g, "/v1/sim/channels/"+two+"/inbound", `{"from":"+15550005002","text":"to two"}`)
	b.waitJS("both messages", fmt.Sprintf(`%s >= 1 && %s >= 1`,
		count(fmt.Sprintf(`li[data-type="message.received"][data-channel=%q]`, one)),
		count(fmt.Sprintf(`li[data-type="message.received"][data-channel=%q]`, two))), 15*time.Second)
	b.screenshot("all")

	// Filter by channel, then by type.
	b.do(chromedp.SetValue(chromedp.CSS("#monitor-channel"), one), evalVoid(`document.querySelector("#monitor-channel").dispatchEvent(new Event("change"))`))
	b.waitJS("only channel one", fmt.Sprintf(`%s === 0 && %s >= 1`, count(fmt.Sprintf(`li[data-channel=%q]`, two)), count(fmt.Sprintf(`li[data-channel=%q]`, one))), 5*time.Second)
	post(t, g, "/v1/sim/channels/"+two+"/inbound", `{"from":"+15550005002","text":"two again"}`)
	post(t, g, "/v1/sim/channels/"+one+"/presence", `{"from":"+15550005001","state":"composing"}`)
	b.waitJS("channel one's typing", count(`li[data-type="chat.presence"]`)+` >= 1`, 15*time.Second)
	require.Equal(t, 0, eval[int](b, count(fmt.Sprintf(`li[data-channel=%q]`, two))), "channel two stays filtered out")
	b.do(chromedp.SetValue(chromedp.CSS("#monitor-type"), "message.received"), evalVoid(`document.querySelector("#monitor-type").dispatchEvent(new Event("change"))`))
	b.waitJS("only messages of channel one", fmt.Sprintf(`%s === 0 && %s >= 1`, count(`li:not([data-type="message.received"])`), count(`li`)), 5*time.Second)
	b.screenshot("filtered")

	// Paused: new events are counted, not shown, until resumed.
	shown := eval[int](b, count(`li`))
	b.click("#monitor-pause")
	post(t, g, "/v1/sim/channels/"+one+"/inbound", `{"from":"+15550005001","text":"while paused"}`)
	b.waitJS("the paused count", `/: [1-9]/.test(document.querySelector("#monitor-count").textContent.split(" · ").at(-1))`, 15*time.Second)
	require.Equal(t, shown, eval[int](b, count(`li`)), "nothing drawn while paused")
	b.click("#monitor-pause")
	b.waitJS("the message after resuming", `/while paused/.test(document.querySelector("#monitor-log").textContent)`, 5*time.Second)

	// The buffer is bounded: with 100 kept, older events drop off.
	b.do(chromedp.SetValue(chromedp.CSS("#monitor-keep"), "100"), evalVoid(`document.querySelector("#monitor-keep").dispatchEvent(new Event("change"))`))
	b.do(chromedp.SetValue(chromedp.CSS("#monitor-type"), ""), evalVoid(`document.querySelector("#monitor-type").dispatchEvent(new Event("change"))`))
	for i := range 110 {
		post(t, g, "/v1/sim/channels/"+one+"/inbound", fmt.Sprintf(`{"from":"+15550005001","text":"flood %d"}`, i))
	}
	b.waitJS("the last of the flood", `/flood 109/.test(document.querySelector("#monitor-log").textContent)`, 30*time.Second)
	require.Equal(t, "100", eval[string](b, `document.querySelector("#monitor-count").dataset.total`))
	require.LessOrEqual(t, eval[int](b, count(`li`)), 100)
	require.Contains(t, b.text("#monitor-count"), "dropped")
	require.NotContains(t, b.text("#monitor-log"), "to one", "the oldest events are gone")
	b.screenshot("bounded")
	require.Empty(t, b.unexpectedErrors(), "console errors")
}
