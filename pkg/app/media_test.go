package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/testenv"
)

// fetch GETs path with the token and returns the answer whole.
func (c client) fetch(path string, header map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp, b
}

// inboundMedia waits for the inbound message of WhatsApp id waID in the
// message list and returns its media member once its status is want.
func inboundMedia(t *testing.T, api client, ch, waID, want string) (string, map[string]any) {
	t.Helper()
	var (
		id string
		m  map[string]any
	)
	testenv.Eventually(t, 20*time.Second, func() bool {
		_, l := api.do("GET", "/v1/channels/"+ch+"/messages?direction=inbound", nil)
		data, _ := l["data"].([]any)
		for _, x := range data {
			msg := x.(map[string]any)
			if msg["wa_id"] != waID {
				continue
			}
			id = msg["id"].(string)
			m, _ = msg["body"].(map[string]any)["media"].(map[string]any)
			return m != nil && m["status"] == want
		}
		return false
	}, "message %s with media %s (%v)", waID, want, &m)
	return id, m
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// The end to end: an image a phone sends reaches the webhook with
// its URL, and a GET of that URL returns the very bytes (SHA-256 equal),
// by ranges too.
func TestReceivedImageFromSimulatorToWebhookAndGET(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	env := gatewayEnv(t)
	env["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	code, wh := api.do("POST", "/v1/webhooks", map[string]any{"url": rcv.URL, "events": []string{"message.received", "message.media_stored"}})
	require.Equal(t, http.StatusCreated, code, "%v", wh)
	ch := pairedChannel(t, api, nil)

	code, _ = api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AE2EIMG", "from": "15550102030", "type": "image", "size": 200_000})
	require.Equal(t, http.StatusAccepted, code)
	id, m := inboundMedia(t, api, ch, "3AE2EIMG", "stored")
	url := "/v1/channels/" + ch + "/messages/" + id + "/media"
	require.Equal(t, url, m["url"])
	require.Equal(t, "image/png", m["mime"])
	require.EqualValues(t, 200_000, m["size"])

	// The webhooks: message.received with the URL (pending), then
	// message.media_stored with it.
	var received, stored map[string]any
	testenv.Eventually(t, 15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range bodies {
			data, _ := b["data"].(map[string]any)
			if data["message_id"] != id {
				continue
			}
			switch b["type"] {
			case "message.received":
				received = data["media"].(map[string]any)
			case "message.media_stored":
				stored = data["media"].(map[string]any)
			}
		}
		return received != nil && stored != nil
	}, "message.received and message.media_stored webhooks")
	require.Equal(t, url, received["url"])
	require.Equal(t, "pending", received["status"])
	require.Equal(t, url, stored["url"])
	require.Equal(t, "stored", stored["status"])
	announced := received["sha256"].(string)

	resp, file := api.fetch(url, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", file)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, "200000", resp.Header.Get("Content-Length"))
	require.Equal(t, `"`+announced+`"`, resp.Header.Get("ETag"))
	require.Equal(t, announced, sha(file), "the GET returns the bytes the phone sent")
	_, err := png.Decode(bytes.NewReader(file))
	require.NoError(t, err, "a real image")

	resp, part := api.fetch(url, map[string]string{"Range": "bytes=100000-100999"})
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, "bytes 100000-100999/200000", resp.Header.Get("Content-Range"))
	require.Equal(t, file[100000:101000], part)
	resp, _ = api.fetch(url, map[string]string{"If-None-Match": `"` + announced + `"`})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)

	// A text message has no file; a bad token reaches nothing.
	code, _ = api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AE2ETXT", "from": "15550102030", "text": "no file"})
	require.Equal(t, http.StatusAccepted, code)
	var textID string
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, l := api.do("GET", "/v1/channels/"+ch+"/messages?direction=inbound", nil)
		for _, x := range l["data"].([]any) {
			if x.(map[string]any)["wa_id"] == "3AE2ETXT" {
				textID = x.(map[string]any)["id"].(string)
			}
		}
		return textID != ""
	}, "the text message")
	resp, b := api.fetch("/v1/channels/"+ch+"/messages/"+textID+"/media", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, string(b), `"media_not_found"`)
	other := client{t: t, base: g.URL(), token: "not-a-token"}
	resp, _ = other.fetch(url, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A video is not fetched until asked for: 202 with Retry-After, then the file.
	code, _ = api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AE2EVID", "from": "15550102030", "type": "video"})
	require.Equal(t, http.StatusAccepted, code)
	vid, vm := inboundMedia(t, api, ch, "3AE2EVID", "pending")
	vurl := "/v1/channels/" + ch + "/messages/" + vid + "/media"
	resp, b = api.fetch(vurl, nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", b)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	testenv.Eventually(t, 15*time.Second, func() bool {
		resp, b = api.fetch(vurl, nil)
		return resp.StatusCode == http.StatusOK
	}, "the video after the first request")
	require.Equal(t, vm["sha256"], sha(b))
}

func TestBase64SendIsStoredOnceAndNotEchoed(t *testing.T) {
	g := startGateway(t, gatewayEnv(t))
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	ch := pairedChannel(t, api, nil)
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	code, sent := api.do("POST", "/v1/channels/"+ch+"/messages", map[string]any{"to": "15550102030", "type": "image",
		"media": map[string]any{"base64": base64.StdEncoding.EncodeToString(buf.Bytes()), "caption": "red dot"}})
	require.Equal(t, http.StatusAccepted, code, "%v", sent)
	id := sent["id"].(string)

	var msg map[string]any
	testenv.Eventually(t, 15*time.Second, func() bool {
		_, msg = api.do("GET", "/v1/channels/"+ch+"/messages/"+id, nil)
		return msg["status"] == "sent" || msg["status"] == "delivered" || msg["status"] == "read"
	}, "the image to be sent from the stored file (%v)", &msg)
	raw, _ := json.Marshal(msg)
	require.NotContains(t, string(raw), base64.StdEncoding.EncodeToString(buf.Bytes())[:40], "the log does not echo the base64")
	m := msg["body"].(map[string]any)["media"].(map[string]any)
	require.Equal(t, "stored", m["status"])
	require.Equal(t, "red dot", m["caption"])
	require.Equal(t, sha(buf.Bytes()), m["sha256"])
	resp, file := api.fetch(m["url"].(string), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, buf.Bytes(), file)

	_, l := api.do("GET", "/v1/channels/"+ch+"/messages?direction=outbound", nil)
	raw, _ = json.Marshal(l)
	require.False(t, strings.Contains(string(raw), `"base64"`), "the list has no base64: %s", raw)
}

// With an S3 store: a presigned URL in the list; the storage down answers
// 503 with Retry-After and loses nothing.
func TestS3StorageDownAnswers503AndLosesNothing(t *testing.T) {
	srv := testenv.S3(t)
	env := gatewayEnv(t)
	env["WAGATE_MEDIA_URL"] = "s3://" + srv.Bucket + "/wagate"
	env["WAGATE_S3_ENDPOINT"] = "http://" + srv.Endpoint
	env["WAGATE_S3_ACCESS_KEY"], env["WAGATE_S3_SECRET_KEY"] = srv.AccessKey, srv.SecretKey
	g := startGateway(t, env)
	t.Cleanup(g.Stop)
	api := client{t: t, base: g.URL(), token: g.AdminToken()}
	ch := pairedChannel(t, api, nil)

	code, _ := api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AS3ONE", "from": "15550102030", "type": "document", "file_name": "a.pdf"})
	require.Equal(t, http.StatusAccepted, code)
	id, m := inboundMedia(t, api, ch, "3AS3ONE", "stored")
	require.Contains(t, m["presigned_url"], srv.Bucket)
	resp, err := http.Get(m["presigned_url"].(string))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, m["sha256"], sha(b))

	srv.Stop()
	url := "/v1/channels/" + ch + "/messages/" + id + "/media"
	resp, b = api.fetch(url, nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", b)
	require.Contains(t, string(b), `"storage_unavailable"`)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	code, _ = api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AS3TWO", "from": "15550102030", "type": "image"})
	require.Equal(t, http.StatusAccepted, code)
	two, _ := inboundMedia(t, api, ch, "3AS3TWO", "pending")
	resp, _ = api.fetch("/v1/channels/"+ch+"/messages/"+two+"/media", nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "still fetching while the storage is down")

	srv.Start()
	_, m2 := inboundMedia(t, api, ch, "3AS3TWO", "stored")
	resp, b = api.fetch("/v1/channels/"+ch+"/messages/"+two+"/media", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, m2["sha256"], sha(b))
	resp, _ = api.fetch(url, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
