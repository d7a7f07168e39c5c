package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/app/apptest"
	"github.com/wagate/wagate/pkg/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// browserEnv is a gateway on the simulator and a headless Chromium on it.
type browserEnv struct {
	t      *testing.T
	gw     *app.Gateway
	ctx    context.Context
	shots  string
	nshot  int
	mu     sync.Mutex
	errors []string
}

// requireChromium skips without Chromium, except in CI where it must be there.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must install it (scripts/chromium.sh, run by make test)", chromiumPath)
		}
		t.Skipf("%s is missing; run ./scripts/chromium.sh to run the browser tests", chromiumPath)
	}
}

// startGateway runs a whole gateway in-process on the simulator with QR
// codes that rotate within seconds: at scale 0.05 the first code lives 3 s,
// the next five 1 s each. Sends, leases and webhook addresses follow the
// defaults, as on a user's machine.
func startGateway(t *testing.T, overrides ...map[string]string) *app.Gateway {
	t.Helper()
	env := map[string]string{
		"WAGATE_SIM_TIME_SCALE":        "0.05",
		"WAGATE_SIM_QR_TIME_SCALE":     "",
		"WAGATE_SHARDS":                "4",
		"WAGATE_LEASE_TTL":             "",
		"WAGATE_SEND_RATE":             "",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE": "",
		"WAGATE_ADMIN_TOKEN":           "admin-token-for-browser-tests",
	}
	for _, o := range overrides {
		maps.Copy(env, o)
	}
	return apptest.Start(t, env, app.Options{})
}

func newBrowser(t *testing.T, g *app.Gateway, name string, extra ...chromedp.ExecAllocatorOption) *browserEnv {
	t.Helper()
	requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(bctx, 3*time.Minute)
	b := &browserEnv{t: t, gw: g, ctx: ctx, shots: screenshotDir(t, name)}
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	b.listenConsole(ctx)
	return b
}

// listenConsole records console errors and uncaught exceptions.
func (b *browserEnv) listenConsole(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d) source=%q", m, m.URL, m.Line, m.Source))
				b.mu.Unlock()
			}
		}
	}()
}

func (b *browserEnv) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// screenshotDir is testout/<name> at the repository root.
func screenshotDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test")
		dir = parent
	}
	out := filepath.Join(dir, "testout", name)
	require.NoError(t, os.MkdirAll(out, 0o755))
	return out
}

func (b *browserEnv) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

func (b *browserEnv) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	b.nshot++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.nshot, name))
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	b.t.Logf("screenshot %s", path)
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browserEnv, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, "evaluate %s", js)
	return v
}

// waitJS waits until a JavaScript expression is truthy.
func (b *browserEnv) waitJS(what, js string, timeout time.Duration) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.t.Logf("waiting for %s timed out; the page: %s", what, b.pageState())
	}
	require.NoError(b.t, err, "waiting for %s (console errors: %q)", what, b.consoleErrors())
}

// pageState is what a failed wait tells besides its timeout: the page's
// address, its live stream's state and a screenshot's path, so a failure
// in CI says whether the page missed an event or never got one.
func (b *browserEnv) pageState() string {
	state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.hash + " · stream " + (document.querySelector("#live")?.dataset.state || "none")`))
	if err != nil {
		return "unreadable: " + err.Error()
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return state
	}
	b.nshot++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-failed.png", b.nshot))
	if os.WriteFile(path, png, 0o644) != nil {
		return state
	}
	return state + " · screenshot " + path
}

// tryJS waits until a JavaScript expression is truthy and says whether
// it became so, for a test that wants to explain a timeout itself.
func (b *browserEnv) tryJS(js string, timeout time.Duration) error {
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	return err
}

// click waits for sel to be visible and clicks it. Right after a layout
// change (a new viewport) the element's box may not be computed yet and
// Chromium answers "invalid dimensions"; an element drawn again between
// the wait and the click (a channel's head is, on each of its events) is
// a node Chromium "could not find". Neither clicked anything: the click
// is retried then.
func (b *browserEnv) click(sel string) {
	b.t.Helper()
	var err error
	for range 20 {
		err = chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
		if err == nil || !(strings.Contains(err.Error(), "invalid dimensions") || strings.Contains(err.Error(), "Could not find node")) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(b.t, err, "click %s", sel)
}

// openChat clicks a chat of the chats panel and waits until its messages
// show text. A click whose press and release land on two renderings of
// the list (it is drawn again after every message event) is no click at
// all, so an item that does not become the open chat is clicked again; a
// timeout says what the panel showed.
func (b *browserEnv) openChat(chat, text string) {
	b.t.Helper()
	item := fmt.Sprintf(`#chat-list li[data-chat=%q] .chat-item`, chat)
	opened := fmt.Sprintf(`document.querySelector(%q)?.getAttribute("aria-current") === "true"`, item)
	for range 3 {
		b.click(item)
		if b.tryJS(opened, 3*time.Second) == nil {
			break
		}
	}
	shows := fmt.Sprintf(`(document.querySelector("#chat-messages")?.textContent ?? "").includes(%q)`, text)
	if err := b.tryJS(shows, 20*time.Second); err != nil {
		state := eval[string](b, fmt.Sprintf(`JSON.stringify({open: %s, viewHidden: document.querySelector("#chat-messages")?.closest("[hidden]") !== null,
			title: document.querySelector("#chat-view-title")?.textContent ?? null,
			view: document.querySelector("#chat-messages")?.parentElement?.textContent ?? document.querySelector(".chats-layout")?.textContent ?? ""})`, opened))
		b.t.Fatalf("chat %s never showed %q: %v; panel %s; console errors %q", chat, text, err, state, b.consoleErrors())
	}
}

func (b *browserEnv) typeInto(sel, text string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *browserEnv) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel))
}

func (b *browserEnv) signIn(token, channelID string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.gw.URL() + "/"))
	b.typeInto("#signin-token", token)
	if channelID != "" {
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#signin-form details, form.signin details").open = true`))
		b.typeInto("#signin-channel", channelID)
	}
	b.click("#signin-submit")
	b.waitJS("the live stream", `document.querySelector("#live")?.dataset.state === "live"`, 15*time.Second)
}

// createChannel creates a channel through the dialog and returns its id
// and token, leaving the token dialog open.
func (b *browserEnv) createChannel(name string) (id, token string) {
	b.t.Helper()
	before := eval[[]string](b, `[...document.querySelectorAll("tbody tr")].map(r => r.dataset.id)`)
	b.click("#new-channel")
	b.typeInto("#create-name", name)
	b.click("#create-submit")
	b.do(chromedp.WaitVisible(chromedp.CSS("#token-value")))
	token = b.text("#token-value")
	require.True(b.t, strings.HasPrefix(token, "wgc_"), "token %q", token)
	after := eval[[]string](b, `[...document.querySelectorAll("tbody tr")].map(r => r.dataset.id)`)
	for _, a := range after {
		if !contains(before, a) {
			id = a
		}
	}
	require.NotEmpty(b.t, id, "the new channel appears in the list")
	return id, token
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func badgeState(id string) string {
	return fmt.Sprintf(`document.querySelector('tr[data-id=%q] .badge')?.dataset.state`, id)
}

// post calls the API as the admin, as another client of the gateway would.
func post(t *testing.T, g *app.Gateway, path, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+g.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "POST %s: %s", path, b)
}

// slowQR makes the simulated QR codes live 9 s, then 3 s each (24 s in
// all): tests that click through the QR modal must not lose the race with
// the codes' expiry on a loaded machine.
var slowQR = map[string]string{"WAGATE_SIM_TIME_SCALE": "0.15"}

func TestDashboardInChromium(t *testing.T) {
	requireChromium(t)
	g := startGateway(t, slowQR)
	b := newBrowser(t, g, "dashboard")

	// Sign in.
	b.do(chromedp.Navigate(g.URL() + "/"))
	b.do(chromedp.WaitVisible(chromedp.CSS("#signin-token")))
	b.screenshot("sign-in")
	b.signIn(g.AdminToken(), "")
	b.do(chromedp.WaitVisible(chromedp.CSS("#new-channel")))
	// A marker that a reload would erase: every update below must be live.
	b.do(chromedp.Evaluate[chromedp.Void](`window.__noReload = true`))
	b.screenshot("empty-list")

	// Create a channel; its token is shown once.
	id1, token1 := b.createChannel("Support line")
	b.screenshot("channel-created")

	// Link a phone: the QR modal shows a QR code and a countdown.
	b.click("#token-connect")
	b.waitJS("the QR code", `document.querySelector("#qr-img")?.src.startsWith("data:image/png;base64,") && !document.querySelector("#qr-img").hidden`, 15*time.Second)
	require.Regexp(t, `^Expires in 0:0[0-9]$`, b.text("#qr-countdown"))
	require.Equal(t, "Attempt 1 of 6", b.text("#qr-attempt"))
	require.True(t, eval[bool](b, `document.activeElement.closest("#qr-dialog") !== null`), "focus moves into the modal")
	require.Equal(t, "qr_pending", eval[string](b, `document.querySelector("#qr-steps li[aria-current]")?.dataset.step`))
	first := eval[string](b, `document.querySelector("#qr-img").dataset.code`)
	b.screenshot("qr-modal")

	// The code rotates on its own.
	b.waitJS("a new QR code", fmt.Sprintf(`document.querySelector("#qr-img").dataset.code !== %q`, first), 30*time.Second)
	require.Regexp(t, `^Attempt [2-6] of 6$`, b.text("#qr-attempt"))
	b.screenshot("qr-rotated")

	// A simulated scan turns the badge to active without a reload.
	b.click("#sim-scan")
	b.waitJS("the badge to turn active", badgeState(id1)+` === "active"`, 15*time.Second)
	b.do(chromedp.WaitVisible(chromedp.CSS("#qr-done")))
	require.Equal(t, 4, eval[int](b, `document.querySelectorAll("#qr-steps li.done").length`))
	require.True(t, eval[bool](b, `window.__noReload === true`), "the page was not reloaded")
	b.screenshot("connected")
	b.click("#qr-done [data-close]")
	b.waitJS("the modal to close", `!document.querySelector("#qr-dialog").open`, 5*time.Second)
	b.waitJS("the phone number in the list", fmt.Sprintf(`/\+1555/.test(document.querySelector('tr[data-id=%q]').textContent)`, id1), 10*time.Second)
	b.screenshot("list-active")

	// A second channel linked with a phone number: the pairing code appears.
	id2, _ := b.createChannel("Sales")
	b.click("#token-connect")
	b.click("#tab-phone")
	require.Equal(t, "true", eval[string](b, `document.querySelector("#tab-phone").getAttribute("aria-selected")`))
	b.typeInto("#phone-input", "+49 151 2345678")
	b.click("#phone-submit")
	b.waitJS("the pairing code", `/^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(document.querySelector("#pairing-code").textContent)`, 15*time.Second)
	b.screenshot("pairing-code")

	// Nobody enters it: once the codes run out the modal says so and offers a retry.
	b.click("#tab-qr")
	b.waitJS("the QR error", `!document.querySelector("#qr-error").hidden`, 60*time.Second)
	require.Contains(t, b.text("#qr-error"), "not scanned in time")
	b.waitJS("the error badge", badgeState(id2)+` === "error"`, 5*time.Second)
	b.screenshot("qr-attempts-exhausted")
	b.click("#qr-retry")
	b.waitJS("a fresh QR code after the retry", `!document.querySelector("#qr-img").hidden && document.querySelector("#qr-error").hidden`, 15*time.Second)
	require.Equal(t, "Attempt 1 of 6", b.text("#qr-attempt"))
	b.do(chromedp.KeyEvent("\x1b")) // Escape closes the modal
	b.waitJS("the modal to close", `!document.querySelector("#qr-dialog").open`, 5*time.Second)

	// The channel page: the event log shows new events as they happen.
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id1))
	b.do(chromedp.WaitVisible(chromedp.CSS("#event-log-empty")))
	b.waitJS("the connection history", `document.querySelectorAll("#history li").length >= 3`, 10*time.Second)
	post(t, g, "/v1/sim/channels/"+id1+"/inbound", `{"from":"+15550009999","text":"Hi from a test"}`)
	b.waitJS("the inbound message in the event log", `document.querySelector('#event-log li[data-type="message.received"]') !== null`, 15*time.Second)
	require.Contains(t, b.text(`#event-log li[data-type="message.received"]`), "Hi from a test")
	// The channel is online (the default): the contact who wrote is followed,
	// and its typing shows in the live events (issue 16, point 6).
	post(t, g, "/v1/sim/channels/"+id1+"/presence", `{"from":"+15550009999","state":"composing"}`)
	b.waitJS("typing in the event log", `document.querySelector('#event-log li[data-type="chat.presence"]') !== null`, 15*time.Second)
	require.Contains(t, b.text(`#event-log li[data-type="chat.presence"]`), "+15550009999 is typing")
	post(t, g, "/v1/sim/channels/"+id1+"/presence", `{"from":"+15550009999","state":"available"}`)
	b.waitJS("online status in the event log", `document.querySelector('#event-log li[data-type="presence.updated"]') !== null`, 15*time.Second)
	require.Contains(t, b.text(`#event-log li[data-type="presence.updated"]`), "+15550009999 is online")
	b.click("#sim-inbound")
	b.waitJS("a second message", `document.querySelectorAll('#event-log li[data-type="message.received"]').length >= 2`, 15*time.Second)
	b.waitJS("the message log", `document.querySelectorAll("#messages tbody tr").length >= 1`, 15*time.Second)
	// A received image shows as a thumbnail loaded from the media route,
	// with a download link.
	post(t, g, "/v1/sim/channels/"+id1+"/inbound", `{"from":"+15550009999","type":"image","caption":"a picture"}`)
	testenv.Eventually(t, 15*time.Second, func() bool {
		var n int
		_ = g.Deps.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM media WHERE status = 'stored'").Scan(&n)
		return n == 1
	}, "the image to be stored")
	b.click(`.crumbs a`)
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id1))
	b.waitJS("the image thumbnail", `[...document.querySelectorAll("#messages img.media-thumb")].some((i) => i.complete && i.naturalWidth === 64)`, 15*time.Second)
	require.Contains(t, b.text("#messages a.media-link"), "Download")
	b.screenshot("channel-page")

	// Bulk: select every channel and stop them.
	b.click(`.crumbs a`)
	b.do(chromedp.WaitVisible(chromedp.CSS("#select-all")))
	b.click("#select-all")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-bulk="stop"]`)))
	b.screenshot("bulk-selected")
	b.click(`[data-bulk="stop"]`)
	b.waitJS("both channels stopped", badgeState(id1)+` === "inactive" && `+badgeState(id2)+` === "inactive"`, 20*time.Second)
	require.True(t, eval[bool](b, `window.__noReload === true`), "the page was not reloaded")
	b.screenshot("bulk-stopped")

	// On a phone.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.screenshot("phone-list")
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id1))
	b.do(chromedp.WaitVisible(chromedp.CSS("#event-log")))
	b.screenshot("phone-channel")

	require.Empty(t, b.consoleErrors(), "console errors")

	// A channel token sees its channel alone, in a fresh tab.
	t.Run("channel token", func(t *testing.T) {
		tab := newBrowser(t, g, "dashboard-channel-token")
		tab.signIn(token1, id1)
		tab.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-id=%q]`, id1))))
		require.Equal(t, 1, eval[int](tab, `document.querySelectorAll("tbody tr").length`))
		require.False(t, eval[bool](tab, `document.querySelector("#new-channel") !== null`), "no create button for a channel token")
		require.NotContains(t, eval[string](tab, `location.href`), token1, "the token never goes into the URL")
		post(t, g, "/v1/channels/"+id1+"/start", `{}`)
		tab.waitJS("the badge to turn active", badgeState(id1)+` === "active"`, 15*time.Second)
		tab.screenshot("channel-token-list")
		require.Empty(t, tab.consoleErrors(), "console errors")
	})
}
