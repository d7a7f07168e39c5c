package dashboard_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func TestChatsContactNamesAndNumberCheck(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "chats")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Chats line")

	// Alice is in the phone's address book; Bob is known by his push name
	// only; 21 more people write, so the chats fill more than a page.
	post(t, g, "/v1/sim/channels/"+id+"/contact", `{"phone":"+15550002222","name":"Alice Example"}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550002222","text":"hi from alice"}`)
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550003333","text":"hi from bob","push_name":"Bob Push"}`)
	for i := range 21 {
		post(t, g, "/v1/sim/channels/"+id+"/inbound", fmt.Sprintf(`{"from":"+155500041%02d","text":"hello %d"}`, i, i))
	}
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550002222","text":"alice again"}`)
	require.Eventually(t, func() bool {
		return len(apiJSON(t, g, http.MethodGet, "/v1/channels/"+id+"/chats?limit=500", "")["data"].([]any)) == 23
	}, 30*time.Second, 200*time.Millisecond, "the 23 chats stored")

	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	b.waitJS("the first page of chats", `document.querySelectorAll("#chat-list li[data-chat]").length === 20 && !document.querySelector("#chats-more").hidden`, 15*time.Second)
	b.click("#chats-more")
	b.waitJS("every chat", `document.querySelectorAll("#chat-list li[data-chat]").length === 23 && document.querySelector("#chats-more").hidden`, 15*time.Second)

	// Names instead of JIDs: the address book's for Alice (in the chat
	// list and the message log), the push name for Bob.
	alice := `#chat-list li[data-chat="15550002222@s.whatsapp.net"]`
	b.waitJS("Alice by name", fmt.Sprintf(`document.querySelector('%s .chat-name')?.textContent === "Alice Example"`, alice), 15*time.Second)
	require.Equal(t, "Bob Push", b.text(`#chat-list li[data-chat="15550003333@s.whatsapp.net"] .chat-name`))
	require.Contains(t, b.text(alice+" .chat-last"), "alice again")
	b.waitJS("Alice by name in the message log", `[...document.querySelectorAll("#messages .contact-name")].some((e) => e.textContent === "Alice Example")`, 15*time.Second)

	// A click opens the chat's messages.
	b.openChat("15550002222@s.whatsapp.net", "alice again")
	b.waitJS("Alice's messages", `/hi from alice[^]*alice again/.test(document.querySelector("#chat-messages")?.textContent ?? "")`, 15*time.Second)
	require.Equal(t, "Alice Example", b.text("#chat-view-title"))
	require.NotContains(t, b.text("#chat-messages"), "hi from bob")
	b.screenshot("chat-open")

	// Which numbers are on WhatsApp (in the simulator, one ending in 0000
	// is not).
	b.typeInto("#check-phones", "+15550002222\n+1 555 001 0000")
	b.click("#check-submit")
	b.waitJS("the answers", `document.querySelectorAll("#check-table tbody tr").length === 2`, 15*time.Second)
	require.Equal(t, "true", eval[string](b, `document.querySelector('#check-table tr[data-phone="15550002222"]').dataset.exists`))
	require.Equal(t, "false", eval[string](b, `document.querySelector('#check-table tr[data-phone="15550010000"]').dataset.exists`))
	b.screenshot("number-check")

	// The same page in Brazilian Portuguese: the new panels come from the
	// catalog too.
	b.do(evalVoid(`localStorage.setItem("wagate.lang", "pt-BR")`), chromedp.Reload())
	b.waitJS("the page in Portuguese", `document.documentElement.lang === "pt-BR" && document.querySelector("#h-chats")?.textContent === "Conversas"`, 15*time.Second)
	require.Equal(t, "Configurações", b.text("#h-settings"))
	require.Equal(t, "Verificar números", b.text("#h-check"))
	require.Equal(t, "Enviar uma mensagem de teste", b.text("#h-send"))
	// The webhooks panel is drawn when its list has been read.
	b.waitJS("the webhooks panel in Portuguese", `document.querySelector("#hook-add")?.textContent === "+ Adicionar webhook"`, 15*time.Second)
	require.Equal(t, "Eventos", b.text("#nav-events"))
	b.click("#settings-details summary")
	require.Equal(t, "Salvar configurações", b.text("#settings-save"))
	b.screenshot("pt-BR")
	require.Empty(t, b.unexpectedErrors(), "console errors")
}
