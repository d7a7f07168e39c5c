package dashboard_test

import (
	"fmt"
	"net/http"
	"strings"
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
	// The page of an active channel reads its contacts; a ban landing
	// while that read is under way answers it 409, which Chromium logs.
	// The ban comes after the read.
	b.waitJS("the contacts read", `performance.getEntriesByType("resource").some((e) => /\/contacts$/.test(e.name) && e.responseEnd > 0)`, 10*time.Second)

	// A temporary ban: what it means, when it ends, and no Start button.
	post(t, g, "/v1/sim/channels/"+id+"/ban", `{"seconds":7200}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "banned"
	}, 20*time.Second, 50*time.Millisecond, "the channel banned (GET /v1/channels/{id})")
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

// TestErrorStatesLoggedOutOutdatedUnreachable shows, for the other failed
// states, what the state means and the main action that fits it: a phone
// that unlinked the device is linked again, a client WhatsApp rejects is
// started after the upgrade, and an unreachable WhatsApp (with the dial
// error) is retried.
func TestErrorStatesLoggedOutOutdatedUnreachable(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "error-states-more")
	b.signIn(g.AdminToken(), "")
	// home goes back to the list, where linkChannelAPI watches the badge.
	home := func() {
		t.Helper()
		b.do(evalVoid(`location.hash = "#/"`))
		b.do(chromedp.WaitVisible(chromedp.CSS("#new-channel")))
	}
	open := func(id string) {
		t.Helper()
		b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
		b.waitJS("the channel page", `document.querySelector("#state-help") !== null`, 10*time.Second)
	}
	helpShows := func(what, title string) {
		t.Helper()
		b.waitJS(what, fmt.Sprintf(`((e) => e && !e.hidden && e.textContent.includes(%q))(document.querySelector("#state-help"))`, title), 20*time.Second)
	}
	primary := func() string {
		t.Helper()
		return eval[string](b, `[...document.querySelectorAll('.ch-head .btn-primary')].map((e) => e.dataset.action + ": " + e.textContent).join(" | ")`)
	}

	// Logged out from the phone: linking again is the main action, and it
	// opens the linking dialog.
	out := linkChannelAPI(t, b, "Unlinked line")
	open(out)
	post(t, g, "/v1/sim/channels/"+out+"/logout", `{}`)
	helpShows("the explanation of the logout", "The phone unlinked this device.")
	require.Contains(t, b.text("#state-help"), "Link again with a new QR code or a pairing code.")
	require.Equal(t, "connect: Link again", primary())
	b.screenshot("logged-out")
	b.click(`.ch-head .btn-primary[data-action="connect"]`)
	b.waitJS("the linking dialog", `document.querySelector("#qr-dialog").open`, 10*time.Second)
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitJS("the dialog to close", `!document.querySelector("#qr-dialog").open`, 5*time.Second)

	// A client version WhatsApp rejects: upgrade first, then start; Start
	// is not offered as if it would help now.
	home()
	old := linkChannelAPI(t, b, "Outdated line")
	open(old)
	post(t, g, "/v1/sim/channels/"+old+"/client_outdated", `{}`)
	helpShows("the explanation of the outdated client", "WhatsApp rejects this client version.")
	require.Contains(t, b.text("#state-help"), "Upgrade wagate (it carries the WhatsApp client) and restart the workers")
	require.Equal(t, "Start after the upgrade", b.text(`.ch-head [data-action="start"]`))
	require.Empty(t, primary(), "no primary action before the upgrade")
	b.screenshot("client-outdated")

	// WhatsApp unreachable: the dial error, classified, is shown, and
	// "Retry now" is the main action (not retryable here, so that the
	// state holds until the click instead of the worker's own retry).
	home()
	far := linkChannelAPI(t, b, "Unreachable line")
	open(far)
	post(t, g, "/v1/sim/channels/"+far+"/connect_failure",
		`{"reason":"whatsapp_unreachable","message":"dial tcp: lookup web.whatsapp.com: no such host","retryable":false}`)
	helpShows("the explanation of the unreachable WhatsApp", "WhatsApp cannot be reached.")
	require.Contains(t, b.text("#state-help"), "The worker could not connect: dns: dial tcp: lookup web.whatsapp.com: no such host.")
	require.Equal(t, "restart: Retry now", primary())
	require.Equal(t, 1, eval[int](b, `document.querySelectorAll('.ch-head [data-action="restart"]').length`), "one restart button, the retry")
	b.screenshot("unreachable")
	b.click(`.ch-head .btn-primary[data-action="restart"]`)
	b.waitJS("the channel active again", `document.querySelector(".ch-head .badge")?.dataset.state === "active" && document.querySelector("#state-help").hidden`, 20*time.Second)
	require.Equal(t, "active", apiJSON(t, g, http.MethodGet, "/v1/channels/"+far, "")["state"])
	// The page reads the contacts when the channel turns active; during the
	// restart that read can meet the channel not active yet (409).
	var errs []string
	for _, e := range b.consoleErrors() {
		if !(strings.Contains(e, "status of 409") && strings.Contains(e, "/contacts:") && strings.Contains(e, `source="network"`)) {
			errs = append(errs, e)
		}
	}
	require.Empty(t, errs, "console errors")
}
