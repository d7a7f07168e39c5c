package dashboard_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
)

// apiJSON calls the API as the admin and decodes the answer.
func apiJSON(t *testing.T, g *app.Gateway, method, path, body string) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL()+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+g.AdminToken())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, data)
	out := map[string]any{}
	if len(data) > 0 {
		require.NoError(t, json.Unmarshal(data, &out), "%s", data)
	}
	return out
}

// createChannelAPI creates a channel through the API and returns its id.
func createChannelAPI(t *testing.T, g *app.Gateway, name string) string {
	t.Helper()
	return apiJSON(t, g, http.MethodPost, "/v1/channels", fmt.Sprintf(`{"name":%q,"driver":"sim"}`, name))["id"].(string)
}

// menuItem is the selector of a row's menu entry by its label.
func menuItem(id, label string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('tr[data-id=%q] [role="menuitem"]')].find((b) => b.textContent === %q)`, id, label)
}

func TestLastRowMenuReachable(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	for i := range 13 {
		createChannelAPI(t, g, fmt.Sprintf("Line %02d", i+1))
	}
	// The last row (by name) is linked, so its menu has Log out.
	last := createChannelAPI(t, g, "Zulu line")
	b := newBrowser(t, g, "row-menu")
	b.signIn(g.AdminToken(), "")
	b.waitJS("the last row", fmt.Sprintf(`document.querySelector("tbody tr:last-child")?.dataset.id === %q`, last), 10*time.Second)
	post(t, g, "/v1/channels/"+last+"/start", `{}`)
	b.waitJS("the QR code", badgeState(last)+` === "qr_pending"`, 15*time.Second)
	post(t, g, "/v1/sim/channels/"+last+"/scan", `{}`)
	b.waitJS("the last channel active", badgeState(last)+` === "active"`, 15*time.Second)
	b.waitJS("its phone number", fmt.Sprintf(`/\+1555/.test(document.querySelector('tr[data-id=%q]').textContent)`, last), 10*time.Second)

	// The last row sits at the bottom of the page; its menu opens upwards,
	// whole, and every entry takes a real mouse click.
	openMenu := func(labels ...string) {
		b.click(fmt.Sprintf(`tr[data-id=%q] [aria-haspopup="menu"]`, last))
		for _, label := range labels {
			require.True(t, eval[bool](b, fmt.Sprintf(`(() => {
				const el = %s;
				const r = el.getBoundingClientRect();
				return r.bottom <= innerHeight && r.top >= 0 && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === el;
			})()`, menuItem(last, label))), "menu entry %q is visible and on top", label)
		}
	}
	b.do(evalVoid(`window.scrollTo(0, document.body.scrollHeight)`))
	openMenu("Open details", "Start", "Stop", "Restart", "Log out", "Delete")
	b.screenshot("last-row-menu")
	b.clickJS(menuItem(last, "Log out"))
	b.click("#confirm-ok")
	b.waitJS("logged out", badgeState(last)+` === "logged_out"`, 15*time.Second)
	b.waitJS("the phone number gone", fmt.Sprintf(`!/\+1555/.test(document.querySelector('tr[data-id=%q]').textContent)`, last), 10*time.Second)
	time.Sleep(time.Second) // the health read that follows a change

	b.do(evalVoid(`window.scrollTo(0, document.body.scrollHeight)`))
	openMenu("Open details", "Start", "Stop", "Restart", "Delete")
	b.clickJS(menuItem(last, "Delete"))
	b.click("#confirm-ok")
	b.waitJS("the row to go", fmt.Sprintf(`document.querySelector('tr[data-id=%q]') === null`, last), 15*time.Second)
	b.screenshot("last-row-deleted")
	require.Empty(t, b.consoleErrors(), "console errors")
}

func evalVoid(js string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](js) }

// clickJS clicks, with the mouse, the element a JavaScript expression
// finds (chromedp clicks the middle of its box).
func (b *browserEnv) clickJS(js string) {
	b.t.Helper()
	b.do(evalVoid(`document.querySelectorAll("[data-click-target]").forEach((e) => e.removeAttribute("data-click-target"));` +
		`(` + js + `).setAttribute("data-click-target", "")`))
	b.click("[data-click-target]")
}
