package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
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

// TestTheListCatchesUpWhenTheStreamComesLate holds the page's stream
// token request until a channel has changed state after the list was
// read: its events went to no stream, and the row must still show the
// new state once the stream is live (the list poll keeps known records).
func TestTheListCatchesUpWhenTheStreamComesLate(t *testing.T) {
	requireChromium(t)
	g := startGateway(t, slowQR)
	id := createChannelAPI(t, g, "Changed before the stream")
	b := newBrowser(t, g, "live-late-stream")
	release := b.holdRequests("*/v1/stream-tokens*")

	b.do(chromedp.Navigate(g.URL() + "/"))
	b.typeInto("#signin-token", g.AdminToken())
	b.click("#signin-submit")
	b.waitJS("the channel listed", fmt.Sprintf(`document.querySelector('tr[data-id=%q] [data-action="connect"]') !== null`, id), 15*time.Second)
	require.NotEqual(t, "live", eval[string](b, `document.querySelector("#live").dataset.state`), "the stream is held")

	post(t, g, "/v1/channels/"+id+"/start", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "qr_pending"
	}, 15*time.Second, 50*time.Millisecond, "the QR code")
	require.True(t, eval[bool](b, fmt.Sprintf(`document.querySelector('tr[data-id=%q] [data-action="connect"]') !== null`, id)), "nothing told the page yet")

	release()
	b.waitJS("the live stream", `document.querySelector("#live")?.dataset.state === "live"`, 15*time.Second)
	b.waitJS("the row in its new state", fmt.Sprintf(`document.querySelector('tr[data-id=%q] [data-action="qr"]') !== null`, id), 10*time.Second)
	b.screenshot("caught-up")
	require.Empty(t, b.consoleErrors(), "console errors")
}

// TestTheChannelPageCatchesUpWhenTheStreamComesLate opens a channel's
// page while the stream token is held; a message that arrives after the
// page read its messages goes to no stream, and the page must show it in
// the message log and the chat list once the stream is live.
func TestTheChannelPageCatchesUpWhenTheStreamComesLate(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	id := activeChannelAPI(t, g, "Message before the stream")
	b := newBrowser(t, g, "live-late-stream-channel")
	release := b.holdRequests("*/v1/stream-tokens*")
	b.do(chromedp.Navigate(g.URL() + "/"))
	b.typeInto("#signin-token", g.AdminToken())
	b.click("#signin-submit")
	b.waitJS("the channel listed", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, id), 15*time.Second)
	b.do(evalVoid(fmt.Sprintf(`location.hash = "#/channels/%s"`, id)))
	b.waitJS("the empty message log", `document.querySelector("#h-messages") !== null && document.querySelector("#messages") === null && performance.getEntriesByType("resource").some((e) => /\/messages\?limit=/.test(e.name) && e.responseEnd > 0)`, 15*time.Second)

	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550004444","text":"sent while no stream listened"}`)
	require.Eventually(t, func() bool {
		data, _ := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/messages", "")["data"].([]any)
		return len(data) == 1
	}, 15*time.Second, 50*time.Millisecond, "the message stored")
	require.False(t, eval[bool](b, `document.querySelector("#messages") !== null`), "nothing told the page yet")
	require.NotEqual(t, "live", eval[string](b, `document.querySelector("#live").dataset.state`), "the stream is held")

	release()
	b.waitJS("the live stream", `document.querySelector("#live")?.dataset.state === "live"`, 15*time.Second)
	b.waitJS("the message in the log", `[...document.querySelectorAll("#messages tbody tr")].some((r) => r.textContent.includes("sent while no stream listened"))`, 10*time.Second)
	b.waitJS("the chat in the list", `document.querySelector('#chat-list li[data-chat="15550004444@s.whatsapp.net"]') !== null`, 10*time.Second)
	b.screenshot("channel-caught-up")
	require.Empty(t, b.consoleErrors(), "console errors")
}

// TestANewChannelsListReadOlderThanItsEvents: a channel created elsewhere
// is added to the list by a read the page makes on its first event; when
// that read's answer is older than the events that came meanwhile (they
// found no row to update), the row still shows the newest state.
func TestANewChannelsListReadOlderThanItsEvents(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "live-list-read-older")
	// The list's answers, intercepted from the start so that a read under
	// way when the gate closes is held too.
	lists := b.newGate(&fetch.RequestPattern{URLPattern: "*/v1/channels?limit=*", RequestStage: fetch.RequestStageResponse})
	b.signIn(g.AdminToken(), "")
	b.waitJS("the live stream", `document.querySelector("#live")?.dataset.state === "live"`, 15*time.Second)
	b.do(evalVoid(`window.__noReload = true`))
	lists.close()

	id := createChannelAPI(t, g, "Read older than its events")
	post(t, g, "/v1/channels/"+id+"/start", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "qr_pending"
	}, 15*time.Second, 50*time.Millisecond, "the QR code")
	// Let the page's list read (debounced after the first event) answer
	// with the channel waiting for its scan, and hold that answer.
	time.Sleep(time.Second)
	post(t, g, "/v1/sim/channels/"+id+"/scan", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "active"
	}, 15*time.Second, 50*time.Millisecond, "the channel active")
	time.Sleep(700 * time.Millisecond) // the events of the scan reach the page
	require.False(t, eval[bool](b, fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, id)), "the list's answer is held")

	lists.open()
	b.waitJS("the row", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') !== null`, id), 15*time.Second)
	b.waitJS("the row active", badgeState(id)+` === "active"`, 10*time.Second)
	b.waitJS("the phone number of the paired channel", fmt.Sprintf(`/\+1555/.test(document.querySelector('tr[data-id=%q]').textContent)`, id), 10*time.Second)
	require.True(t, eval[bool](b, `window.__noReload === true`), "the page was not reloaded")
	b.screenshot("row-newest")
	require.Empty(t, b.consoleErrors(), "console errors")
}

// holdRequests pauses every request of the page matching pattern until
// the returned function is called; it lets them go on then, and any
// made afterwards at once.
func (b *browserEnv) holdRequests(pattern string) (release func()) {
	b.t.Helper()
	g := b.newGate(&fetch.RequestPattern{URLPattern: pattern})
	g.close()
	return g.open
}

// gate pauses the page's requests matching a pattern (at the request or
// the response stage) while closed; open lets those held go on and the
// next ones pass at once. A response paused while closed is as old as the
// moment its request was made.
type gate struct {
	b      *browserEnv
	target *chromedp.Target
	mu     sync.Mutex
	closed bool
	held   []fetch.RequestID
}

// newGate starts intercepting pattern, open.
func (b *browserEnv) newGate(pattern *fetch.RequestPattern) *gate {
	b.t.Helper()
	g := &gate{b: b}
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		g.target = tg
		paused := cdp.Events(b.ctx, tg, fetch.RequestPaused)
		go func() {
			for ev, err := range paused {
				if err != nil {
					return
				}
				g.mu.Lock()
				if g.closed {
					g.held = append(g.held, ev.RequestID)
					g.mu.Unlock()
					continue
				}
				g.mu.Unlock()
				_, _ = cdp.Call(b.ctx, tg, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}
		}()
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{pattern}})
		return err
	}))
	return g
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	g.closed = false
	ids := g.held
	g.held = nil
	g.mu.Unlock()
	for _, id := range ids {
		_, err := cdp.Call(g.b.ctx, g.target, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
		require.NoError(g.b.t, err)
	}
}

// TestTheLinkDialogLearnsTheCodesRanOut opens the link dialog of a channel
// the tab still believes shows QR codes while they ran out with no stream
// to say so: the missing code makes the dialog read the channel again and
// show why, instead of waiting for a code that never comes.
func TestTheLinkDialogLearnsTheCodesRanOut(t *testing.T) {
	requireChromium(t)
	// Codes for 24 s: a loaded machine starts Chromium and signs in before
	// they run out (8 s at the tests' default scale was not always enough).
	g := startGateway(t, slowQR)
	id := createChannelAPI(t, g, "Codes ran out unseen")
	post(t, g, "/v1/channels/"+id+"/start", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "qr_pending"
	}, 15*time.Second, 50*time.Millisecond, "the QR code")

	b := newBrowser(t, g, "live-codes-ran-out")
	b.holdRequests("*/v1/stream-tokens*") // never let go: no event reaches the page
	b.do(chromedp.Navigate(g.URL() + "/"))
	b.typeInto("#signin-token", g.AdminToken())
	b.click("#signin-submit")
	b.waitJS("the channel listed with its QR", fmt.Sprintf(`document.querySelector('tr[data-id=%q] [data-action="qr"]') !== null`, id), 15*time.Second)

	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "error"
	}, 45*time.Second, 100*time.Millisecond, "the QR codes run out")
	b.click(fmt.Sprintf(`tr[data-id=%q] [data-action="qr"]`, id))
	b.waitJS("the dialog to say the codes ran out", `!document.querySelector("#qr-error").hidden`, 10*time.Second)
	require.Equal(t, "The QR code was not scanned in time.", b.text("#qr-error-title"))
	b.screenshot("codes-ran-out")
}
