package app_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/media/preview/previewtest"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// Through HTTP on the simulator: an image sent by URL and a voice note sent
// as base64 are stored, served by GET …/media with the very bytes, and the
// message log shows what WhatsApp shows of them: the image's thumbnail,
// the voice note's seconds and waveform.
func TestSentMediaIsServedWithWhatPhonesShow(t *testing.T) {
	photo := previewtest.JPEG(previewtest.Gradient(900, 600))
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(photo)
	}))
	t.Cleanup(remote.Close)
	cfg, err := config.Load(config.RoleGateway, func(k string) (string, bool) { v, ok := gatewayEnv(t)[k]; return v, ok })
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		app.Options{Listener: ln, Worker: func(c *worker.Config) {
			c.ResumeSpread = 20 * time.Millisecond
			c.MediaFetchClient = remote.Client() // the remote server is on loopback, which the default refuses
		}})
	require.NoError(t, err)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	ch := pairedChannel(t, api, nil)

	note := previewtest.VoiceNote(slices.Repeat([]int{2, 70}, 125)) // 5 s
	code, img := api.do("POST", "/v1/channels/"+ch+"/messages", map[string]any{"to": "15550102030", "type": "image",
		"media": map[string]any{"url": remote.URL + "/photo.jpg", "caption": "view"}})
	require.Equal(t, http.StatusAccepted, code, "%v", img)
	code, voice := api.do("POST", "/v1/channels/"+ch+"/messages", map[string]any{"to": "15550102030", "type": "audio", "voice": true,
		"media": map[string]any{"base64": base64.StdEncoding.EncodeToString(note)}})
	require.Equal(t, http.StatusAccepted, code, "%v", voice)

	sentMedia := func(id string) map[string]any {
		var msg map[string]any
		testenv.Eventually(t, 20*time.Second, func() bool {
			_, msg = api.do("GET", "/v1/channels/"+ch+"/messages/"+id, nil)
			return msg["status"] == "sent" || msg["status"] == "delivered" || msg["status"] == "read" || msg["status"] == "played"
		}, "message %s to be sent (%v)", id, &msg)
		return msg["body"].(map[string]any)["media"].(map[string]any)
	}

	m := sentMedia(img["id"].(string))
	require.Equal(t, "stored", m["status"], "a URL send is stored too")
	require.Equal(t, sha(photo), m["sha256"])
	require.Equal(t, "/v1/channels/"+ch+"/messages/"+img["id"].(string)+"/media", m["url"], "the list names the route, not only the source URL")
	thumb, err := base64.StdEncoding.DecodeString(m["thumbnail"].(string))
	require.NoError(t, err)
	require.Equal(t, []byte{0xff, 0xd8}, thumb[:2], "a JPEG thumbnail")
	resp, file := api.fetch(m["url"].(string), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, photo, file)

	m = sentMedia(voice["id"].(string))
	require.Equal(t, "stored", m["status"])
	require.EqualValues(t, 5, m["seconds"])
	require.Len(t, m["waveform"], 64)
	require.Equal(t, "audio/ogg; codecs=opus", m["mime"])
	resp, file = api.fetch(m["url"].(string), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, note, file)
}
