package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// serveCDN stands in, inside the browser, for WhatsApp's CDN, which the
// closed network of the tests cannot reach: every image the page asks
// from https://pps.whatsapp.net/ is answered with pic. It returns the URLs
// asked for.
func (b *browserEnv) serveCDN(pic []byte) func() []string {
	b.t.Helper()
	var mu sync.Mutex
	var asked []string
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		paused := cdp.Events(b.ctx, tg, fetch.RequestPaused)
		go func() {
			for ev, err := range paused {
				if err != nil {
					return
				}
				mu.Lock()
				asked = append(asked, ev.Request.URL)
				mu.Unlock()
				_, _ = cdp.Call(b.ctx, tg, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusOK,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/jpeg"}}, Body: pic})
			}
		}()
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "https://pps.whatsapp.net/*"}}})
		return err
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// testJPEG is a 96×96 JPEG of one colour.
func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{R: 30, G: 140, B: 90, A: 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, nil))
	return buf.Bytes()
}

// TestChatsContactPictures: next to a contact's name, the chats list and
// the message log show the contact's picture where WhatsApp has one (its
// preview, loaded from the URL the picture route answers) and the
// initials of the name otherwise.
func TestChatsContactPictures(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "contact-pictures")
	asked := b.serveCDN(testJPEG(t))
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Pictures line")

	// Alice has a picture; Bob, known by his push name, has none.
	post(t, g, "/v1/sim/channels/"+id+"/contact", `{"phone":"+15550002222","name":"Alice Example","picture":true}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550002222","text":"hi from alice"}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550003333","text":"hi from bob","push_name":"Bob Push"}`)
	require.Eventually(t, func() bool {
		return len(apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/chats", "")["data"].([]any)) == 2
	}, 30*time.Second, 200*time.Millisecond, "the two chats stored")
	picture := apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/contacts/"+url.PathEscape("15550002222@s.whatsapp.net")+"/picture?preview=true", "")["url"].(string)
	require.True(t, strings.HasPrefix(picture, "https://pps.whatsapp.net/"), "picture URL %q", picture)

	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	alice := `#chat-list li[data-chat="15550002222@s.whatsapp.net"]`
	bob := `#chat-list li[data-chat="15550003333@s.whatsapp.net"]`
	b.waitJS("Alice by name", fmt.Sprintf(`document.querySelector('%s .chat-name')?.textContent === "Alice Example"`, alice), 15*time.Second)
	b.do(evalVoid(`document.querySelector("#chat-list").scrollIntoView()`))
	err := b.tryJS(fmt.Sprintf(`((i) => i && i.complete && i.naturalWidth === 96)(document.querySelector('%s .avatar img'))`, alice), 20*time.Second)
	require.NoError(t, err, "Alice's picture in the chats list; the CDN was asked %q; the avatar holds %q", asked(),
		eval[string](b, fmt.Sprintf(`document.querySelector('%s .avatar')?.outerHTML ?? ""`, alice)))
	require.Equal(t, picture, eval[string](b, fmt.Sprintf(`document.querySelector('%s .avatar img').src`, alice)))
	require.Equal(t, "Bob Push", b.text(bob+" .chat-name"))
	require.Equal(t, "BP", b.text(bob+" .avatar"))
	require.False(t, eval[bool](b, fmt.Sprintf(`document.querySelector('%s .avatar img') !== null`, bob)), "no picture for Bob")

	// The message log: the same picture next to Alice's name, initials for Bob.
	b.do(evalVoid(`document.querySelector("#messages").scrollIntoView()`))
	aliceRow := `[...document.querySelectorAll("#messages .contact")].find((c) => c.querySelector(".contact-name")?.textContent === "Alice Example")`
	bobRow := `document.querySelector('#messages .contact [data-jid="15550003333@s.whatsapp.net"]')?.parentElement`
	b.waitJS("Alice's picture in the message log", fmt.Sprintf(`((c) => { const i = c && c.querySelector(".avatar img"); return i && i.complete && i.naturalWidth === 96; })(%s)`, aliceRow), 20*time.Second)
	require.True(t, eval[bool](b, `((c) => c !== undefined && c.querySelector(".avatar") !== null && c.querySelector(".avatar img") === null)(`+bobRow+`)`), "Bob without a picture in the message log")
	b.screenshot("pictures")
	for _, u := range asked() {
		require.Equal(t, picture, u, "only Alice's picture is asked from the CDN")
	}
	require.Empty(t, b.consoleErrors(), "console errors")
}
