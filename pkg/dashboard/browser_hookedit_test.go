package dashboard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/webhook"
)

// received is one delivery as the remote endpoint saw it.
type received struct {
	header http.Header
	body   []byte
}

// signedBy says whether a delivery carries a signature made with secret.
func (r received) signedBy(t *testing.T, secret string) bool {
	t.Helper()
	ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	want, err := webhook.Sign([]string{secret}, r.header.Get("webhook-id"), time.Unix(ts, 0), r.body)
	require.NoError(t, err)
	return strings.Contains(" "+r.header.Get("webhook-signature")+" ", " "+want+" ")
}

// unexpectedErrors are the console errors but the network's report of
// the 400s a test provoked on purpose (the API refusing bad input).
func (b *browserEnv) unexpectedErrors() []string {
	var out []string
	for _, e := range b.consoleErrors() {
		if strings.Contains(e, "status of 400 (Bad Request)") && strings.Contains(e, `source="network"`) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// setValue replaces the value of an input or textarea as a user would.
func (b *browserEnv) setValue(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), evalVoid(fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)))
	if value != "" {
		b.typeInto(sel, value)
	}
}

func TestWebhookCreatedEditedAndRotatedInTheDashboard(t *testing.T) {
	requireChromium(t)
	var mu sync.Mutex
	var got []received
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{header: r.Header.Clone(), body: body})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(remote.Close)
	last := func() received {
		mu.Lock()
		defer mu.Unlock()
		return got[len(got)-1]
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	g := startGateway(t, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"})
	b := newBrowser(t, g, "webhook-editor")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Hooked")
	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))

	// A URL the API refuses: its error shows under the URL field.
	b.click("#hook-add")
	b.typeInto("#hook-url", "ftp://example.com/hook")
	b.click("#hook-submit")
	b.waitJS("the URL error", `!document.querySelector('[data-error-for="url"]').hidden`, 10*time.Second)
	require.NotEmpty(t, b.text(`[data-error-for="url"]`))
	require.Equal(t, "true", eval[string](b, `document.querySelector("#hook-url").getAttribute("aria-invalid")`))
	b.screenshot("url-refused")

	// A header the API refuses (Host is set by the dispatcher) shows under
	// the headers.
	b.setValue("#hook-url", remote.URL+"/hook")
	b.setValue("#hook-events", "message.received")
	b.click("#hook-header-add")
	b.typeInto("#hook-headers .header-row:last-child .header-name", "Host")
	b.typeInto("#hook-headers .header-row:last-child .header-value", "evil")
	b.click("#hook-submit")
	b.waitJS("the header error", `!document.querySelector('[data-error-for="headers"]').hidden`, 10*time.Second)
	b.do(evalVoid(`document.querySelector("#hook-headers .header-row:last-child button").click()`))
	b.click("#hook-header-add")
	b.typeInto("#hook-headers .header-row:last-child .header-name", "X-Api-Key")
	b.typeInto("#hook-headers .header-row:last-child .header-value", "k-123")
	b.typeInto("#hook-max", "3")
	b.click("#hook-submit")

	// The secret is shown once, with a copy button.
	b.waitJS("the secret", `/^whsec_/.test(document.querySelector("#hook-secret")?.textContent ?? "")`, 10*time.Second)
	secret := b.text("#hook-secret")
	require.True(t, eval[bool](b, `document.querySelector("#secret-dialog .copy") !== null`), "a copy button")
	b.screenshot("secret-shown")
	b.click("#secret-close")
	list := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks", "")["data"].([]any)
	require.Len(t, list, 1)
	hook := list[0].(map[string]any)
	hid := hook["id"].(string)
	require.Equal(t, remote.URL+"/hook", hook["url"])
	require.Equal(t, []any{"message.received"}, hook["events"])
	require.Equal(t, map[string]any{"X-Api-Key": "k-123"}, hook["headers"])
	require.EqualValues(t, 3, hook["max_in_flight"])
	require.Equal(t, true, hook["enabled"])
	require.Nil(t, hook["secret"], "the secret is never listed again")

	// A delivery carries the header and is signed with the secret shown.
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550004444","text":"first"}`)
	require.Eventually(t, func() bool { return count() >= 1 }, 30*time.Second, 50*time.Millisecond, "a delivery")
	require.Equal(t, "k-123", last().header.Get("X-Api-Key"))
	require.True(t, last().signedBy(t, secret), "signed with the secret the dashboard showed")

	// Edit: an out-of-range max_in_flight is refused next to its field;
	// then the events, the header and the bound change.
	sel := fmt.Sprintf(`.endpoint[data-id=%q]`, hid)
	b.click(sel + " .hook-edit")
	require.Equal(t, remote.URL+"/hook", eval[string](b, `document.querySelector("#hook-url").value`))
	require.Equal(t, "X-Api-Key", eval[string](b, `document.querySelector("#hook-headers .header-name").value`))
	b.setValue("#hook-max", "100000")
	b.click("#hook-submit")
	b.waitJS("the max_in_flight error", `!document.querySelector('[data-error-for="max_in_flight"]').hidden`, 10*time.Second)
	b.screenshot("max-refused")
	b.setValue("#hook-max", "5")
	b.setValue("#hook-events", "message.*, connection.status_changed")
	b.setValue("#hook-headers .header-value", "k-456")
	b.click("#hook-submit")
	b.waitJS("the dialog to close", `document.querySelector("#hook-dialog") === null`, 10*time.Second)
	hook = apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/webhooks/"+hid, "")
	require.ElementsMatch(t, []any{"message.*", "connection.status_changed"}, hook["events"])
	require.Equal(t, map[string]any{"X-Api-Key": "k-456"}, hook["headers"])
	require.EqualValues(t, 5, hook["max_in_flight"])
	b.waitJS("the list shows the new filters", fmt.Sprintf(`/connection\.status_changed/.test(document.querySelector('%s').textContent)`, sel), 10*time.Second)

	// Rotate with no grace: a new secret, shown once, signs from now on
	// and the old one no longer does.
	b.click(sel + " .hook-rotate")
	b.do(chromedp.SetValue(chromedp.CSS("#rotate-grace"), "0s"))
	b.click("#rotate-submit")
	b.waitJS("the new secret", fmt.Sprintf(`/^whsec_/.test(document.querySelector("#hook-secret")?.textContent ?? "") && document.querySelector("#hook-secret").textContent !== %q`, secret), 10*time.Second)
	rotated := b.text("#hook-secret")
	b.screenshot("secret-rotated")
	b.click("#secret-close")
	before := count()
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550004444","text":"second"}`)
	require.Eventually(t, func() bool {
		return count() > before && strings.Contains(string(last().body), "second")
	}, 30*time.Second, 50*time.Millisecond, "a delivery after the rotation")
	require.True(t, last().signedBy(t, rotated), "signed with the rotated secret")
	require.False(t, last().signedBy(t, secret), "the old secret was revoked")
	require.Equal(t, "k-456", last().header.Get("X-Api-Key"))
	require.Empty(t, b.unexpectedErrors(), "console errors")
}
