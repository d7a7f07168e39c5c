package dashboard_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestListTotalsExact counts, across the channels on the list, the
// messages sent today and the channels failing: after three sends "3 sent
// today", after a ban "1 failing", after an error as well "2 failing".
func TestListTotalsExact(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "list-totals")
	b.signIn(g.AdminToken(), "")
	a := linkChannelAPI(t, b, "Sender")
	c := linkChannelAPI(t, b, "Quiet")
	totals := func(want string) {
		t.Helper()
		err := b.tryJS(fmt.Sprintf(`document.querySelector("#channels-count")?.textContent === %q`, want), 20*time.Second)
		require.NoError(t, err, "totals %q, the page says %q", want, b.text("#channels-count"))
	}
	totals("2 channels · 0 sent today · 0 failing")

	// A number paired a moment ago warms up (a fraction of the default rate,
	// with jitter): without warm-up and limit the three sends go at once.
	apiJSON(t, g, http.MethodPatch, "/v1/channels/"+a, `{"settings":{"warmup_days":0,"send_rate":"600/m"}}`)
	for i := range 3 {
		apiJSON(t, g, http.MethodPost, "/v1/channels/"+a+"/messages", fmt.Sprintf(`{"to":"+15550001111","type":"text","text":"count %d"}`, i))
	}
	sentToday := func(id string) float64 {
		h := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/health", "")
		v, _ := h["metrics"].(map[string]any)["sent_today"].(float64)
		return v
	}
	// Usage is written a second after the sends; the list reads a
	// channel's health again on its next message event.
	require.Eventually(t, func() bool { return sentToday(a) == 3 }, 20*time.Second, 100*time.Millisecond, "three sends counted")
	post(t, g, "/v1/sim/channels/"+a+"/inbound", `{"from":"+15550001111","text":"thanks"}`)
	totals("2 channels · 3 sent today · 0 failing")

	// A ban makes one channel failing; an error a second.
	post(t, g, "/v1/sim/channels/"+c+"/ban", `{"seconds":3600}`)
	totals("2 channels · 3 sent today · 1 failing")
	b.screenshot("one-failing")
	post(t, g, "/v1/sim/channels/"+a+"/client_outdated", `{}`)
	totals("2 channels · 3 sent today · 2 failing")
	require.Equal(t, 3.0, sentToday(a))
	require.Empty(t, b.consoleErrors(), "console errors")
}
