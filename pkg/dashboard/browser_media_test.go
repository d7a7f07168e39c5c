package dashboard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/testenv"
)

// TestAudioPlayerInMessageLog: a received voice note shows in the message
// log as an audio player whose source, the stored file fetched with the
// token as a blob, loads and has a duration.
func TestAudioPlayerInMessageLog(t *testing.T) {
	requireChromium(t)
	g := startGateway(t)
	b := newBrowser(t, g, "media-audio")
	b.signIn(g.AdminToken(), "")
	id := linkChannelAPI(t, b, "Voice line")
	post(t, g, "/v1/sim/channels/"+id+"/inbound", `{"from":"+15550007777","type":"audio"}`)
	testenv.Eventually(t, 15*time.Second, func() bool {
		var n int
		_ = g.Deps.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM media WHERE status = 'stored'").Scan(&n)
		return n == 1
	}, "the voice note to be stored")

	b.click(fmt.Sprintf(`tr[data-id=%q] a.ch-name`, id))
	b.waitJS("the audio player", `document.querySelector("#messages audio.media-audio")?.src.startsWith("blob:")`, 15*time.Second)
	err := b.tryJS(`((a) => a.readyState >= 1 && a.error === null && Number.isFinite(a.duration) && a.duration > 0)(document.querySelector("#messages audio.media-audio"))`, 15*time.Second)
	require.NoError(t, err, "the audio loads: %s", eval[string](b, `((a) => JSON.stringify({readyState: a.readyState, error: a.error && a.error.message, duration: a.duration, src: a.src}))(document.querySelector("#messages audio.media-audio"))`))
	require.Contains(t, b.text("#messages a.media-link"), "Download")
	b.screenshot("audio")
	require.Empty(t, b.consoleErrors(), "console errors")
}
