package worker_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/media/preview"
	"github.com/wagate/wagate/pkg/media/preview/previewtest"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// sendMedia stores a media send as the API does (a base64 file is put
// into st first) and wakes the channel.
func (f *fleet) sendMedia(channel string, st media.Store, req messaging.Request) string {
	f.t.Helper()
	req.To = "15550001111"
	require.Nil(f.t, req.Validate())
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: channel, IdempotencyKey: ids.New("key_"), Chat: req.To, Type: req.Type}
	if req.Media.Base64 != "" {
		raw, err := base64.StdEncoding.DecodeString(req.Media.Base64)
		require.NoError(f.t, err)
		obj, err := st.Put(context.Background(), media.Key(channel, m.ID), bytes.NewReader(raw), media.PutOptions{Size: int64(len(raw))})
		require.NoError(f.t, err)
		file := *req.Media
		file.Base64, file.Stored = "", &messaging.StoredFile{SHA256: obj.SHA256, Size: obj.Size}
		req.Media = &file
		m.Media = &store.Media{Kind: req.Type, MIME: req.Media.MIME, Status: store.MediaStored, StorageKey: obj.Key, SHA256: obj.SHA256, Size: obj.Size}
	}
	m.Body, _ = json.Marshal(req)
	stored, _, err := f.store.EnqueueMessage(context.Background(), m)
	require.NoError(f.t, err)
	f.command(channel, command.Send, command.Envelope{MessageID: stored.ID})
	return stored.ID
}

// sentEvent waits for the message.sent of message id.
func (f *fleet) sentEvent(channel, id string) worker.MessageStatus {
	f.t.Helper()
	var data worker.MessageStatus
	testenv.Eventually(f.t, 15*time.Second, func() bool {
		for _, e := range f.events(channel) {
			var d worker.MessageStatus
			if e.Type == event.MessageSent && json.Unmarshal(e.Data, &d) == nil && d.MessageID == id {
				data = d
				return true
			}
		}
		return false
	}, "message.sent of %s", id)
	return data
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Sent media are kept like received media (issue 17): a URL is fetched
// into the media store before the send, a base64 file was stored by the
// API; once sent, the upload's keys (direct path, media key, digests),
// MIME type, thumbnail, seconds and waveform are in the message log, and
// message.sent carries the file's media member with the route serving it.
func TestSentMediaKeepsItsKeysAndURLFilesAreStored(t *testing.T) {
	t.Parallel()
	photo := previewtest.JPEG(previewtest.Gradient(1024, 768))
	note := previewtest.VoiceNote(slices.Repeat([]int{3, 3, 60}, 100)) // 6 s
	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/photo":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(photo)
		case "/note.ogg":
			_, _ = w.Write(note)
		case "/files/report.pdf":
			_, _ = w.Write(pdf)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(remote.Close)

	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", func(c *worker.Config) {
		withMedia(st)(c)
		c.MediaFetchClient = remote.Client() // the test's server is on loopback
	})
	ch := f.pairedChannel("sender")

	imgID := f.sendMedia(ch, st, messaging.Request{Type: messaging.TypeImage, Media: &messaging.Media{URL: remote.URL + "/photo", Caption: "view"}})
	noteID := f.sendMedia(ch, st, messaging.Request{Type: messaging.TypeAudio, Voice: true, Media: &messaging.Media{URL: remote.URL + "/note.ogg"}})
	docID := f.sendMedia(ch, st, messaging.Request{Type: messaging.TypeDocument, Media: &messaging.Media{URL: remote.URL + "/files/report.pdf"}})
	b64ID := f.sendMedia(ch, st, messaging.Request{Type: messaging.TypeImage, Media: &messaging.Media{Base64: base64.StdEncoding.EncodeToString(photo), MIME: "image/jpeg"}})

	for _, tc := range []struct {
		id, mime string
		file     []byte
	}{
		{imgID, "image/jpeg", photo},
		{noteID, "audio/ogg; codecs=opus", note},
		{docID, "application/pdf", pdf},
		{b64ID, "image/jpeg", photo},
	} {
		ev := f.sentEvent(ch, tc.id)
		require.NotNil(t, ev.Media, "message.sent of %s names its file", tc.id)
		require.Equal(t, store.MediaStored, ev.Media.Status)
		require.Equal(t, media.Path(ch, tc.id), ev.Media.URL)
		require.Equal(t, hexSHA(tc.file), ev.Media.SHA256)
		require.EqualValues(t, len(tc.file), ev.Media.Size)
		require.Equal(t, tc.mime, ev.Media.MIME)

		row := f.mediaRow(ch, tc.id)
		require.Equal(t, store.MediaStored, row.Status, "served by the media route")
		require.Equal(t, media.Key(ch, tc.id), row.StorageKey)
		require.NotEmpty(t, row.DirectPath, "the upload's keys are kept")
		require.Len(t, row.MediaKey, 32)
		require.NotEmpty(t, row.FileEncSHA256)
		require.Equal(t, hexSHA(tc.file), hex.EncodeToString(row.FileSHA256))
		require.EqualValues(t, len(tc.file), row.FileLength)
		require.Equal(t, tc.mime, row.MIME)
		sum, n := fileDigest(t, st, row.StorageKey)
		require.Equal(t, hexSHA(tc.file), sum, "the stored file is the one sent")
		require.EqualValues(t, len(tc.file), n)
	}

	img := f.mediaRow(ch, imgID)
	require.NotEmpty(t, img.Thumbnail, "an image is sent with a JPEG thumbnail")
	require.Equal(t, img.Thumbnail, f.sentEvent(ch, imgID).Media.Thumbnail)
	voice := f.mediaRow(ch, noteID)
	require.Equal(t, 6, voice.Seconds)
	require.Len(t, voice.Waveform, preview.WaveformLen)
	require.Equal(t, 6, f.sentEvent(ch, noteID).Media.Seconds)
	require.Len(t, f.sentEvent(ch, noteID).Media.Waveform, preview.WaveformLen)
	require.Equal(t, "report.pdf", f.mediaRow(ch, docID).FileName, "a document is named after its URL")
}

// A media URL is fetched through pkg/ssrf: one on a private address (here
// loopback) fails the send with invalid_media and lets the next one go.
func TestSentMediaURLOnAPrivateAddressFails(t *testing.T) {
	t.Parallel()
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(previewtest.PNG(previewtest.Gradient(10, 10)))
	}))
	t.Cleanup(remote.Close)
	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", withMedia(st))
	ch := f.pairedChannel("guarded")
	id := f.sendMedia(ch, st, messaging.Request{Type: messaging.TypeImage, Media: &messaging.Media{URL: remote.URL + "/x.png"}})
	next := f.send(ch, "after", "next")
	require.Equal(t, session.CodeInvalidMedia, f.failedEvent(ch, id).Code)
	f.sentEvent(ch, next)
	_, err := f.store.Media(context.Background(), ch, id)
	require.ErrorIs(t, err, store.ErrNotFound, "nothing stored")
}
