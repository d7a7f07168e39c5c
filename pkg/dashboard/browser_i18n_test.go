package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
)

// shownTexts are the strings a person meets on the page as it is: the
// visible text nodes, the text of each visible element (so a sentence cut
// by a <strong> is whole again), the title, aria-label, placeholder and
// alt attributes, the values of text fields, and the document's title.
const shownTexts = `(() => {
  const seen = (el) => {
    const box = el.closest("select") || el;
    return box.checkVisibility({ visibilityProperty: true });
  };
  const out = new Set();
  const add = (s) => { s = (s || "").replace(/\s+/g, " ").trim(); if (s) out.add(s); };
  add(document.title);
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) {
    const p = n.parentElement;
    if (p && !p.closest("script, style") && seen(p)) add(n.data);
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("script, style") || !seen(el)) continue;
    for (const a of ["title", "aria-label", "placeholder", "alt"]) if (el.hasAttribute(a)) add(el.getAttribute(a));
    if (el.matches("textarea, input:not([type]), input[type=text], input[type=search], input[type=tel], input[type=url]")) add(el.value);
    if (el.children.length && el.textContent.length <= 400) add(el.textContent);
  }
  return [...out];
})()`

// textMatcher tells which catalog text a shown string is: one of its
// texts exactly, or a text with {parameters} filled in.
type textMatcher struct {
	exact    map[string]string
	patterns []keyedPattern
}

type keyedPattern struct {
	key string
	re  *regexp.Regexp
}

var (
	spaces    = regexp.MustCompile(`\s+`)
	quotedArg = regexp.MustCompile(`\\\{\w+\\\}`)
	argument  = regexp.MustCompile(`\{\w+\}`)
	letter    = regexp.MustCompile(`\pL`)
)

// newTextMatcher matches the texts of catalog c for which keep is true. A
// text with parameters is matched as a pattern only when at least five
// letters of it are fixed: "{name} · {phone}" would match anything.
func newTextMatcher(c map[string]any, keep func(key, text string) bool) *textMatcher {
	m := &textMatcher{exact: map[string]string{}}
	for key, v := range c {
		for _, text := range forms(v) {
			text = strings.TrimSpace(spaces.ReplaceAllString(strings.ReplaceAll(text, "**", ""), " "))
			if !keep(key, text) {
				continue
			}
			if !argument.MatchString(text) {
				m.exact[text] = key
				continue
			}
			if len(letter.FindAllString(argument.ReplaceAllString(text, ""), -1)) < 5 {
				continue
			}
			re := regexp.MustCompile(`^` + quotedArg.ReplaceAllString(regexp.QuoteMeta(text), `.+`) + `$`)
			m.patterns = append(m.patterns, keyedPattern{key, re})
		}
	}
	return m
}

// match is the key of the catalog text s is, or "".
func (m *textMatcher) match(s string) string {
	if k, ok := m.exact[s]; ok {
		return k
	}
	for _, p := range m.patterns {
		if p.re.MatchString(s) {
			return p.key
		}
	}
	return ""
}

// englishLeaks finds, among the shown strings, those that are an English
// text where lang has another (and are no text of lang's), and catalog
// keys shown for want of their text.
func englishLeaks(cats map[string]map[string]any, lang string, shown []string) []string {
	en, own := cats["en"], cats[lang]
	differs := func(key, text string) bool {
		for _, o := range forms(own[key]) {
			if strings.TrimSpace(spaces.ReplaceAllString(strings.ReplaceAll(o, "**", ""), " ")) == text {
				return false
			}
		}
		return true
	}
	english := newTextMatcher(en, differs)
	native := newTextMatcher(own, func(string, string) bool { return true })
	var out []string
	for _, s := range shown {
		if _, isKey := en[s]; isKey {
			out = append(out, fmt.Sprintf("%q is a catalog key, shown for want of its text", s))
		} else if key := english.match(s); key != "" && native.match(s) == "" {
			out = append(out, fmt.Sprintf("%q is the English %s", s, key))
		}
	}
	sort.Strings(out)
	return out
}

// requireAllIn fails when the page, as it is now, shows English where
// lang has its own text.
func (b *browserEnv) requireAllIn(cats map[string]map[string]any, lang, where string) {
	b.t.Helper()
	shown := eval[[]string](b, shownTexts)
	require.NotEmpty(b.t, shown)
	require.Empty(b.t, englishLeaks(cats, lang, shown), "English on the %s page in %s", where, lang)
}

func TestEnglishLeaksAreFound(t *testing.T) {
	t.Parallel()
	cats := loadCatalogs(t)
	shown := []string{
		"Send a test message", // English where pt-BR has its own text
		"Enviar uma mensagem de teste",
		"webhooks.title",  // a key shown for want of its text
		"Expires in 0:07", // an English text with its parameter filled in
		"Loja Centro",     // data, in no catalog
		"Webhooks",        // the same in both languages
	}
	leaks := englishLeaks(cats, "pt-BR", shown)
	require.Len(t, leaks, 3, "%q", leaks)
	require.Contains(t, strings.Join(leaks, "\n"), `"Send a test message" is the English send.title`)
	require.Contains(t, strings.Join(leaks, "\n"), `"webhooks.title" is a catalog key`)
	require.Contains(t, strings.Join(leaks, "\n"), `"Expires in 0:07"`)
}

// activeChannelAPI creates a channel and links it on the simulator through
// the API alone.
func activeChannelAPI(t *testing.T, g *app.Gateway, name string) string {
	t.Helper()
	id := createChannelAPI(t, g, name)
	post(t, g, "/v1/channels/"+id+"/start", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "qr_pending"
	}, 15*time.Second, 50*time.Millisecond, "the QR code")
	post(t, g, "/v1/sim/channels/"+id+"/scan", `{}`)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id, "")["state"] == "active"
	}, 15*time.Second, 50*time.Millisecond, "the channel active")
	return id
}

// TestTheDashboardInEachLanguage opens the dashboard as a browser set to
// Brazilian Portuguese, Spanish and Indonesian would (Accept-Language and
// navigator.languages from Chromium's own language preference, nothing in
// localStorage) and walks every view: no string of the English catalog may
// show where the language has its own. Screenshots of each language go to
// testout/i18n-<lang>.
func TestTheDashboardInEachLanguage(t *testing.T) {
	requireChromium(t)
	cats := loadCatalogs(t)
	g := startGateway(t, slowQR, map[string]string{"WAGATE_WEBHOOK_ALLOW_PRIVATE": "true"})

	// A linked channel with chats, a failed message and a disabled webhook;
	// a second one never linked.
	id := activeChannelAPI(t, g, "Loja Centro")
	post(t, g, "/v1/sim/channels/"+id+"/contact", `{"phone":"+15550002222","name":"Ana Souza"}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550002222","text":"oi"}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550003333","text":"hola","push_name":"Beto"}`)
	apiJSON(t, g, http.MethodPost, "/v1/channels/"+id+"/webhooks", `{"url":"http://127.0.0.1:9/hook","enabled":false}`)
	failed := apiJSON(t, g, http.MethodPost, "/v1/channels/"+id+"/messages", `{"to":"+15550000000","type":"text","text":"x"}`)["id"].(string)
	require.Eventually(t, func() bool {
		return apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/messages/"+failed, "")["status"] == "failed"
	}, 30*time.Second, 100*time.Millisecond, "the message to a number not on WhatsApp failed")
	fresh := createChannelAPI(t, g, "Caixa 2")

	for _, lang := range []string{"pt-BR", "es", "id"} {
		t.Run(lang, func(t *testing.T) {
			text := func(key string) string { return cats[lang][key].(string) }
			b := newBrowser(t, g, "i18n-"+lang, chromedp.Flag("accept-lang", lang), chromedp.Flag("lang", lang))
			b.do(chromedp.Navigate(g.URL() + "/"))
			b.do(chromedp.WaitVisible(chromedp.CSS("#signin-token")))
			require.Equal(t, lang, eval[string](b, `document.documentElement.lang`), "the server negotiated the browser's language")
			require.Equal(t, lang, eval[string](b, `navigator.languages[0]`), "the page and the browser agree")
			require.True(t, eval[bool](b, `localStorage.getItem("wagate.lang") === null`), "nothing picked in the page")
			b.requireAllIn(cats, lang, "sign-in")
			b.screenshot("sign-in")

			// The channel list and a row's menu.
			b.signIn(g.AdminToken(), "")
			b.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-id=%q]`, fresh))))
			b.waitJS("the health scores", fmt.Sprintf(`document.querySelector('tr[data-id=%q] .health') !== null`, id), 10*time.Second)
			b.requireAllIn(cats, lang, "list")
			b.screenshot("list")
			b.click(fmt.Sprintf(`tr[data-id=%q] [aria-haspopup="menu"]`, id))
			b.requireAllIn(cats, lang, "row menu")
			b.do(chromedp.KeyEvent("\x1b"))

			// The link dialog, on both tabs.
			b.click(fmt.Sprintf(`tr[data-id=%q] :is([data-action="connect"], [data-action="qr"])`, fresh))
			b.waitJS("a QR code or its error", `!document.querySelector("#qr-img").hidden || !document.querySelector("#qr-error").hidden`, 15*time.Second)
			b.requireAllIn(cats, lang, "link dialog")
			b.screenshot("link-qr")
			b.click("#tab-phone")
			b.requireAllIn(cats, lang, "link dialog's phone tab")
			b.screenshot("link-phone")
			b.do(chromedp.KeyEvent("\x1b"))
			b.waitJS("the link dialog to close", `!document.querySelector("#qr-dialog").open`, 5*time.Second)

			// The channel page: settings, test send, webhooks, chats, messages.
			b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
			b.waitJS("the panels", `document.querySelector("#h-settings") && document.querySelector("#h-send") && document.querySelector(".endpoint") &&
				document.querySelectorAll("#chat-list li[data-chat]").length === 2 && document.querySelectorAll("#messages tbody tr").length >= 3`, 15*time.Second)
			b.click("#settings-details summary")
			b.requireAllIn(cats, lang, "channel")
			b.screenshot("channel")

			// Errors of the API in the page's language: a recipient refused
			// at its field, a message that failed.
			b.setValue("#send-to", "abc")
			b.click("#send-submit")
			b.waitJS("the recipient's error", `!document.querySelector('#send-form [data-error-for="to"]').hidden`, 10*time.Second)
			require.Equal(t, text("field.to"), b.text(`#send-form [data-error-for="to"]`))
			b.setValue("#send-to", "+15550000000")
			b.click("#send-submit")
			b.waitJS("the failed test message", `document.querySelector("#send-status")?.dataset.status === "failed" && document.querySelector("#send-reason")`, 30*time.Second)
			require.Equal(t, text("failure.not_on_whatsapp"), strings.TrimSpace(b.text("#send-reason")))
			b.waitJS("the failure in the live events", `document.querySelector('#event-log li[data-type="message.failed"]')`, 10*time.Second)
			require.Contains(t, b.text(`#event-log li[data-type="message.failed"]`), text("failure.not_on_whatsapp"), "the live events say why, in the page's language")
			b.requireAllIn(cats, lang, "channel after a failed send")
			b.screenshot("send-failed")

			// The webhook editor with a URL the API refuses.
			b.click("#hook-add")
			b.typeInto("#hook-url", "ftp://example.com/hook")
			b.click("#hook-submit")
			b.waitJS("the URL error", `!document.querySelector('#hook-dialog [data-error-for="url"]').hidden`, 10*time.Second)
			require.Equal(t, text("field.url"), b.text(`#hook-dialog [data-error-for="url"]`))
			b.requireAllIn(cats, lang, "webhook editor")
			b.screenshot("webhook-editor")
			b.do(chromedp.KeyEvent("\x1b"))
			b.waitJS("the webhook editor to close", `!document.querySelector("#hook-dialog")?.open`, 5*time.Second)

			// A chat.
			b.openChat("15550002222@s.whatsapp.net", "oi")
			b.requireAllIn(cats, lang, "chat")
			b.screenshot("chat")

			// The event monitor.
			b.click("#nav-events")
			b.do(chromedp.WaitVisible(chromedp.CSS("#monitor-log")))
			post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550002222","text":"de novo"}`)
			post(t, g, "/v1/sim/channels/"+id+"/presence", `{"from":"+15550002222","state":"composing"}`)
			b.waitJS("the events", `document.querySelector('#monitor-log li[data-type="message.received"]') && document.querySelector('#monitor-log li[data-type="chat.presence"]')`, 15*time.Second)
			b.requireAllIn(cats, lang, "event monitor")
			b.screenshot("events")
			// The link dialog asks for a pairing code the channel has not
			// got (404) when it opens on a channel that ran before.
			var unexpected []string
			for _, e := range b.unexpectedErrors() {
				if !(strings.Contains(e, "status of 404") && strings.Contains(e, "/pairing-code") && strings.Contains(e, `source="network"`)) {
					unexpected = append(unexpected, e)
				}
			}
			require.Empty(t, unexpected, "console errors")
		})
	}
}

// The catalogs the test reads are the files the server embeds.
func TestTheCatalogsServedAreTheFiles(t *testing.T) {
	t.Parallel()
	e := engine(nil)
	for lang, want := range loadCatalogs(t) {
		resp := get(t, e, "/assets/locales/"+lang+".json", nil)
		require.Equal(t, http.StatusOK, resp.Code)
		var got map[string]any
		require.NoError(t, json.Unmarshal(resp.Body.Bytes(), &got))
		require.Equal(t, want, got, lang)
	}
}
