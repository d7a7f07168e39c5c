package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// withMedia keeps media in st, retrying quickly.
func withMedia(st media.Store) func(*worker.Config) {
	return func(c *worker.Config) {
		c.Media, c.MediaRetryBase, c.SweepEvery = st, 50*time.Millisecond, 200*time.Millisecond
	}
}

func localMedia(t *testing.T) *media.Local {
	st, err := media.NewLocal(t.TempDir())
	require.NoError(t, err)
	return st
}

// received returns the data of the message.received of WhatsApp id waID.
func (f *fleet) received(ch, waID string) map[string]any {
	f.t.Helper()
	for _, e := range f.events(ch) {
		if e.Type != event.MessageReceived {
			continue
		}
		var d map[string]any
		require.NoError(f.t, json.Unmarshal(e.Data, &d))
		if d["id"] == waID {
			return d
		}
	}
	return nil
}

// mediaStored returns the data of the message.media_stored of message id.
func (f *fleet) mediaStored(ch, id string) *worker.MediaStoredData {
	for _, e := range f.events(ch) {
		if e.Type != event.MessageMediaStored {
			continue
		}
		var d worker.MediaStoredData
		require.NoError(f.t, json.Unmarshal(e.Data, &d))
		if d.MessageID == id {
			return &d
		}
	}
	return nil
}

// mediaFailed returns the data of the message.media_failed of message id.
func (f *fleet) mediaFailed(ch, id string) *worker.MediaFailedData {
	for _, e := range f.events(ch) {
		if e.Type != event.MessageMediaFailed {
			continue
		}
		var d worker.MediaFailedData
		require.NoError(f.t, json.Unmarshal(e.Data, &d))
		if d.MessageID == id {
			return &d
		}
	}
	return nil
}

func (f *fleet) mediaRow(ch, id string) *store.Media {
	d, err := f.store.Media(context.Background(), ch, id)
	require.NoError(f.t, err)
	return d
}

func fileDigest(t *testing.T, st media.Store, key string) (string, int64) {
	t.Helper()
	r, err := st.Open(context.Background(), key)
	require.NoError(t, err)
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil)), n
}

func TestReceivedImageIsDownloadedStoredAndAnnouncedOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", withMedia(st))
	ch := f.pairedChannel("media")
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AIMAGE1", "from": "15553334444", "type": "image", "size": 300_000, "caption": "look"})

	var rec map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { rec = f.received(ch, "3AIMAGE1"); return rec != nil }, "message.received")
	m := rec["media"].(map[string]any)
	id := rec["message_id"].(string)
	require.Equal(t, "image/png", m["mime"])
	require.EqualValues(t, 300_000, m["size"])
	require.Equal(t, media.Path(ch, id), m["url"])
	require.Equal(t, "pending", m["status"])
	announced := m["sha256"].(string)
	require.Len(t, announced, 64)

	var stored *worker.MediaStoredData
	testenv.Eventually(t, 10*time.Second, func() bool { stored = f.mediaStored(ch, id); return stored != nil }, "message.media_stored")
	require.Equal(t, "stored", stored.Media.Status)
	require.Equal(t, announced, stored.Media.SHA256)
	require.EqualValues(t, 300_000, stored.Media.Size)
	require.Equal(t, media.Path(ch, id), stored.Media.URL)
	require.Equal(t, "3AIMAGE1", stored.ID)

	row := f.mediaRow(ch, id)
	require.Equal(t, store.MediaStored, row.Status)
	require.Equal(t, media.Key(ch, id), row.StorageKey)
	require.NotEmpty(t, row.Thumbnail, "the image's JPEG thumbnail is kept")
	sum, n := fileDigest(t, st, row.StorageKey)
	require.Equal(t, announced, sum, "the stored bytes are the ones the phone sent")
	require.EqualValues(t, 300_000, n)

	// Delivered again (a redelivery after a reconnect): recorded and stored once.
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AIMAGE1", "from": "15553334444", "type": "image", "size": 300_000})
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AMARK", "from": "15553334444", "text": "marker"})
	testenv.Eventually(t, 10*time.Second, func() bool { return f.received(ch, "3AMARK") != nil }, "the marker")
	require.Equal(t, 1, countType(f.events(ch), event.MessageMediaStored))
}

func TestExpiredMediaIsFetchedThroughAMediaRetry(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", withMedia(st))
	ch := f.pairedChannel("expired")
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AEXPIRED", "from": "15553334444", "type": "document", "file_name": "invoice.pdf", "expired": true})
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AGONE", "from": "15553334444", "type": "audio", "expired": true, "gone": true})

	var rec map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { rec = f.received(ch, "3AEXPIRED"); return rec != nil }, "message.received")
	id := rec["message_id"].(string)
	require.Equal(t, "invoice.pdf", rec["media"].(map[string]any)["file_name"])
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaStored(ch, id) != nil }, "the expired document to be stored after the retry")
	row := f.mediaRow(ch, id)
	require.Equal(t, "/r1", row.DirectPath[len(row.DirectPath)-3:], "the phone's new direct path is kept")
	sum, _ := fileDigest(t, st, row.StorageKey)
	require.Equal(t, rec["media"].(map[string]any)["sha256"], sum)

	// Gone from the phone too: expired, nothing stored, announced once by
	// message.media_failed (code media_gone).
	var gone map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { gone = f.received(ch, "3AGONE"); return gone != nil }, "message.received")
	goneID := gone["message_id"].(string)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaRow(ch, goneID).Status == store.MediaExpired }, "the gone audio to end expired")
	require.Nil(t, f.mediaStored(ch, goneID))
	var failed *worker.MediaFailedData
	testenv.Eventually(t, 10*time.Second, func() bool { failed = f.mediaFailed(ch, goneID); return failed != nil }, "message.media_failed")
	require.Equal(t, worker.MediaCodeGone, failed.Code)
	require.Equal(t, "3AGONE", failed.ID)
	require.Equal(t, store.MediaExpired, failed.Media.Status)
	require.Equal(t, media.Path(ch, goneID), failed.Media.URL)
	require.NotEmpty(t, failed.Reason)
	require.Nil(t, f.mediaFailed(ch, id), "the document fetched after its retry did not fail")
	require.Equal(t, 1, countType(f.events(ch), event.MessageMediaFailed))
	_, err := st.Stat(context.Background(), media.Key(ch, goneID))
	require.ErrorIs(t, err, media.ErrNotFound)
}

func TestMediaOutsideAutoDownloadWaitsUntilWanted(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", withMedia(st))
	ch := f.pairedChannel("ondemand")
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AVIDEO", "from": "15553334444", "type": "video"})
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3ABIG", "from": "15553334444", "type": "image", "size": 17 << 20})
	var video, big map[string]any
	testenv.Eventually(t, 20*time.Second, func() bool {
		video, big = f.received(ch, "3AVIDEO"), f.received(ch, "3ABIG")
		return video != nil && big != nil
	}, "both messages")
	vid, bid := video["message_id"].(string), big["message_id"].(string)
	time.Sleep(600 * time.Millisecond) // three sweeps: nothing fetches them
	require.Equal(t, store.MediaPending, f.mediaRow(ch, vid).Status, "videos are not fetched by default")
	require.Equal(t, store.MediaPending, f.mediaRow(ch, bid).Status, "images over 16 MB are not fetched by default")

	_, err := f.store.WantMedia(context.Background(), ch, vid)
	require.NoError(t, err)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaRow(ch, vid).Status == store.MediaStored }, "the wanted video to be stored by the sweep")
	require.Equal(t, store.MediaPending, f.mediaRow(ch, bid).Status)
}

func TestStorageOutageLosesNoMediaS3(t *testing.T) {
	t.Parallel()
	srv := testenv.S3(t)
	st, err := media.NewS3(media.S3Config{Bucket: srv.Bucket, Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	require.NoError(t, err)
	f := newFleet(t, 2, time.Second)
	f.startWorkerWith("w1", withMedia(st))
	ch := f.pairedChannel("outage")

	srv.Stop()
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AOUTAGE", "from": "15553334444", "type": "image"})
	var rec map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { rec = f.received(ch, "3AOUTAGE"); return rec != nil }, "message.received")
	id := rec["message_id"].(string)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaRow(ch, id).Attempts >= 2 }, "attempts against the stopped storage")
	require.Equal(t, store.MediaPending, f.mediaRow(ch, id).Status, "an outage never fails the media")

	srv.Start()
	testenv.Eventually(t, 20*time.Second, func() bool { return f.mediaStored(ch, id) != nil }, "the file stored once the storage is back")
	sum, _ := fileDigest(t, st, media.Key(ch, id))
	require.Equal(t, rec["media"].(map[string]any)["sha256"], sum)
	require.Contains(t, f.mediaStored(ch, id).Media.PresignedURL, srv.Bucket, "S3 adds a presigned URL")
}

func TestRetentionDeletesOldFilesAndChannelDeletionItsMedia(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	st := localMedia(t)
	f.startWorkerWith("w1", func(c *worker.Config) {
		withMedia(st)(c)
		c.MediaRetention, c.MediaRetentionEvery = 1500*time.Millisecond, 100*time.Millisecond
	})
	ch := f.pairedChannel("retention")
	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AOLD", "from": "15553334444", "type": "image"})
	var rec map[string]any
	testenv.Eventually(t, 10*time.Second, func() bool { rec = f.received(ch, "3AOLD"); return rec != nil }, "message.received")
	id := rec["message_id"].(string)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaStored(ch, id) != nil }, "stored")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaRow(ch, id).Status == store.MediaExpired }, "expired by retention")
	_, err := st.Stat(context.Background(), media.Key(ch, id))
	require.ErrorIs(t, err, media.ErrNotFound)

	f.sim(ch, sim.ActionInbound, map[string]any{"id": "3AKEPT", "from": "15553334444", "type": "image"})
	testenv.Eventually(t, 10*time.Second, func() bool { rec = f.received(ch, "3AKEPT"); return rec != nil }, "message.received")
	kept := rec["message_id"].(string)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.mediaStored(ch, kept) != nil }, "stored")
	f.command(ch, command.Delete, command.Envelope{})
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, err := st.Stat(context.Background(), media.Key(ch, kept))
		return err != nil
	}, "the deleted channel's files to be deleted")
}
