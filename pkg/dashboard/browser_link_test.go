package dashboard_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// delayPairPhone holds the answer of POST …/pair-phone back until the
// pairing code has come on the live stream (10 s at most), as on a slow
// network: the order the tester saw every time.
const delayPairPhone = `(() => {
  const orig = window.fetch;
  const shown = () => document.querySelector("#pairing-code").textContent !== "" && !document.querySelector("#pairing").hidden;
  window.fetch = async (url, init) => {
    const resp = await orig(url, init);
    if (String(url).endsWith("/pair-phone")) {
      for (let i = 0; i < 100 && !shown(); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      window.__pairAnswered = true;
    }
    return resp;
  };
})()`

func TestPairingCodeShownWithTheSim(t *testing.T) {
	requireChromium(t)
	g := startGateway(t, slowQR)
	b := newBrowser(t, g, "pairing-code")
	b.signIn(g.AdminToken(), "")
	id, _ := b.createChannel("Phone-linked")
	b.do(chromedp.Evaluate[chromedp.Void](delayPairPhone))

	b.click("#token-connect")
	b.click("#tab-phone")
	b.typeInto("#phone-input", "+49 151 2345678")
	b.click("#phone-submit")
	const shown = `/^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(document.querySelector("#pairing-code").textContent) && !document.querySelector("#pairing").hidden`
	b.waitJS("the pairing code", shown, 15*time.Second)
	require.False(t, eval[bool](b, `window.__pairAnswered === true`), "the code came on the stream before the POST answered")
	code := b.text("#pairing-code")
	b.screenshot("code-before-the-answer")

	// The late answer does not clear the code.
	b.waitJS("the answer of pair-phone", `window.__pairAnswered === true`, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	require.True(t, eval[bool](b, shown), "the code is still shown after the answer")
	require.Equal(t, code, b.text("#pairing-code"))
	require.True(t, eval[bool](b, `document.querySelector("#pairing-wait").hidden`), "no spinner next to the code")

	// Entering the code on the (simulated) phone: the phone tab shows the success box.
	b.click("#sim-code")
	b.waitJS("the success box on the phone tab", `!document.querySelector("#phone-done").hidden`, 15*time.Second)
	b.waitJS("the linked number", `document.querySelector("#phone-done-text").textContent.includes("+49151")`, 10*time.Second)
	require.True(t, eval[bool](b, `document.querySelector("#pairing-wait").hidden && document.querySelector("#pairing").hidden`), "no spinner once linked")
	require.Equal(t, "active", eval[string](b, badgeState(id)))
	b.screenshot("linked-by-phone")
	b.click("#phone-done [data-close]")
	b.waitJS("the modal to close", `!document.querySelector("#qr-dialog").open`, 5*time.Second)
	require.Empty(t, b.consoleErrors(), "console errors")
}
