package worker

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// Media downloads. The keys of every received media message are stored
// with the message (store.Media, status pending). The owner of the
// channel fetches the file when it is wanted: at once when the channel's
// settings.media.auto_download names its type and size (default images,
// audio and documents up to 16 MB), else when the API asks for it (a
// download_media command, after marking it wanted). A download runs beside
// the mailbox, at most Config.MediaDownloads at once per worker, streamed
// from WhatsApp into a temporary file and from there into the media store
// (the file is never in memory whole), its SHA-256 checked against the
// message's. An expired direct path goes through the media retry (the
// phone uploads the file again). Storing the file, its status change to
// stored and message.media_stored are one transaction (the outbox). A
// failed attempt leaves the media pending with its next attempt due after
// a backoff; the shard's sweep (maintain) starts due downloads again, so a
// storage outage or a crash loses nothing. A file WhatsApp and the phone no
// longer have ends expired; one that can never be fetched, failed; either
// end is announced by message.media_failed with a code, in the same
// transaction as the status (the outbox).

var (
	metricMediaDownloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_worker_media_downloads_total", Help: "Media downloads by outcome (stored, retry, expired, failed).",
	}, []string{"outcome"})
	metricMediaInFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_worker_media_downloads_in_flight", Help: "Media downloads running or waiting for a slot.",
	})
)

// Defaults of the media settings.
const (
	defaultAutoDownloadMax = 16 << 20
	// mediaAttempts failed attempts (other than storage outages) fail the media.
	mediaAttempts = 8
	mediaRetryMax = 5 * time.Minute
)

// defaultAutoDownload are the types fetched at once by default.
var defaultAutoDownload = []string{"image", "audio", "document"}

// autoDownload is settings.media.auto_download of a channel.
type autoDownload struct {
	Types    []string `json:"types"`
	MaxBytes *int64   `json:"max_bytes"`
}

// wantsAtOnce reports whether the channel's settings fetch ref at once.
func (c *channelRun) wantsAtOnce(ref *session.MediaRef) bool {
	types, maxBytes := defaultAutoDownload, int64(defaultAutoDownloadMax)
	if ad := c.settings().Media.AutoDownload; ad != nil {
		if ad.Types != nil {
			types = ad.Types
		}
		if ad.MaxBytes != nil {
			maxBytes = *ad.MaxBytes
		}
	}
	return slices.Contains(types, ref.Kind) && ref.FileLength <= maxBytes
}

// mediaRow is the store row of a received file.
func mediaRow(ref *session.MediaRef, wanted bool) *store.Media {
	return &store.Media{Kind: ref.Kind, DirectPath: ref.DirectPath, MediaKey: ref.MediaKey, FileEncSHA256: ref.FileEncSHA256,
		FileSHA256: ref.FileSHA256, FileLength: ref.FileLength, MIME: ref.MIME, FileName: ref.FileName, Thumbnail: ref.Thumbnail,
		Status: store.MediaPending, Wanted: wanted}
}

// refOf is the download reference of a stored media row.
func refOf(d *store.Media) session.MediaRef {
	return session.MediaRef{Kind: d.Kind, DirectPath: d.DirectPath, MediaKey: d.MediaKey, FileEncSHA256: d.FileEncSHA256,
		FileSHA256: d.FileSHA256, FileLength: d.FileLength, MIME: d.MIME, FileName: d.FileName, Thumbnail: d.Thumbnail,
		MessageID: d.WAID, Chat: d.Chat, Sender: d.Sender, FromMe: d.FromMe, IsGroup: isGroupJID(d.Chat)}
}

func isGroupJID(jid string) bool { return len(jid) > 5 && jid[len(jid)-5:] == "@g.us" }

// mediaInfo is the media member of events for d.
func mediaInfo(channelID string, d *store.Media) media.Info { return messaging.Info(channelID, d) }

// decorateMedia adds url, status and file_name to the media member of a
// received message's event data.
func decorateMedia(data map[string]any, channelID, messageID string, ref *session.MediaRef) {
	m, _ := data["media"].(map[string]any)
	if m == nil {
		m = map[string]any{"mime": ref.MIME, "size": ref.FileLength}
		data["media"] = m
	}
	m["url"] = media.Path(channelID, messageID)
	m["status"] = store.MediaPending
	if ref.FileName != "" {
		m["file_name"] = ref.FileName
	}
	if _, ok := m["sha256"]; !ok && len(ref.FileSHA256) > 0 {
		m["sha256"] = hex.EncodeToString(ref.FileSHA256)
	}
}

// downloads bounds and de-duplicates a worker's media downloads.
type downloads struct {
	slots    chan struct{}
	mu       sync.Mutex
	inFlight map[string]bool // by message id
}

func newDownloads(n int) *downloads {
	return &downloads{slots: make(chan struct{}, n), inFlight: map[string]bool{}}
}

// begin reserves messageID, false when it is being downloaded already.
func (d *downloads) begin(messageID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight[messageID] {
		return false
	}
	d.inFlight[messageID] = true
	metricMediaInFlight.Inc()
	return true
}

func (d *downloads) end(messageID string) {
	d.mu.Lock()
	delete(d.inFlight, messageID)
	d.mu.Unlock()
	metricMediaInFlight.Dec()
}

func (d *downloads) busy(messageID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight[messageID]
}

// fetchMedia starts the download of d beside the mailbox, unless the
// worker keeps no media, the session cannot download (not active: the
// sweep tries again once it is), or d is being downloaded already. It runs
// in the mailbox, which owns the session.
func (c *channelRun) fetchMedia(d *store.Media) {
	w := c.sr.w
	if w.cfg.Media == nil || d.Status != store.MediaPending {
		return
	}
	dl, ok := c.sess.(session.MediaDownloader)
	if !ok || c.state != state.Active {
		return
	}
	if !w.downloads.begin(d.MessageID) {
		return
	}
	c.sr.wg.Add(1)
	go func() {
		defer c.sr.wg.Done()
		defer w.downloads.end(d.MessageID)
		c.download(c.sr.ctx, dl, d)
	}()
}

// download fetches d once and records the outcome.
func (c *channelRun) download(ctx context.Context, dl session.MediaDownloader, d *store.Media) {
	w := c.sr.w
	select {
	case w.downloads.slots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-w.downloads.slots }()
	log := c.log.With("message_id", d.MessageID, "kind", d.Kind)
	obj, err := c.fetchToStore(ctx, dl, d)
	if ctx.Err() != nil {
		return // the shard stops: the next owner's sweep downloads it
	}
	if err != nil {
		c.mediaFailed(ctx, d, err, log)
		return
	}
	d.Status, d.Size, d.SHA256, d.StorageKey = store.MediaStored, obj.Size, obj.SHA256, obj.Key
	info := mediaInfo(c.id, d)
	if p, ok := w.cfg.Media.(media.Presigner); ok {
		if u, err := p.Presign(ctx, obj.Key, w.cfg.MediaPresignTTL, d.FileName); err == nil {
			info.PresignedURL = u
		}
	}
	ev, err := c.outboxEvent(event.MessageMediaStored, MediaStoredData{MessageID: d.MessageID, ID: d.WAID, Chat: d.Chat, Media: info})
	if err != nil {
		log.Error("cannot encode event", "err", err)
		return
	}
	var stored bool
	err = c.retry("recording a stored media file", func() error {
		var err error
		stored, err = w.cfg.Store.MediaStoredAs(ctx, c.id, d.MessageID, obj.Key, obj.SHA256, obj.Size, ev)
		return err
	})
	if err != nil {
		log.Warn("stored media not recorded; the sweep downloads it again", "err", err)
		return
	}
	metricMediaDownloads.WithLabelValues("stored").Inc()
	if stored {
		w.published(ctx, []event.Envelope{ev.Event})
	}
}

// MediaStoredData is the data of message.media_stored.
type MediaStoredData struct {
	MessageID string     `json:"message_id"`
	ID        string     `json:"id,omitempty"`
	Chat      string     `json:"chat"`
	Media     media.Info `json:"media"`
}

// errStorage marks failures of the media store (an outage: retried, never
// counted against the media).
var errStorage = errors.New("media storage unavailable")

// fetchToStore downloads d into a temporary file (through the media retry
// when its path expired) and puts it into the media store.
func (c *channelRun) fetchToStore(ctx context.Context, dl session.MediaDownloader, d *store.Media) (media.Object, error) {
	w := c.sr.w
	f, err := os.CreateTemp(w.cfg.MediaTempDir, "wagate-media-*")
	if err != nil {
		return media.Object{}, fmt.Errorf("%w: temporary file: %w", errStorage, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ref := refOf(d)
	err = dl.DownloadMedia(ctx, ref, f)
	if errors.Is(err, session.ErrMediaExpired) {
		c.log.Info("media expired on WhatsApp's servers; asking the phone to upload it again", "message_id", d.MessageID)
		rctx, cancel := context.WithTimeout(ctx, w.cfg.MediaRetryTimeout)
		path, rerr := dl.RetryMedia(rctx, ref)
		cancel()
		if rerr != nil {
			return media.Object{}, rerr
		}
		if err := w.cfg.Store.MediaRefreshed(ctx, c.id, d.MessageID, path); err != nil {
			return media.Object{}, err
		}
		d.DirectPath, ref.DirectPath = path, path
		if err := f.Truncate(0); err != nil {
			return media.Object{}, fmt.Errorf("%w: %w", errStorage, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return media.Object{}, fmt.Errorf("%w: %w", errStorage, err)
		}
		err = dl.DownloadMedia(ctx, ref, f)
	}
	if err != nil {
		return media.Object{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return media.Object{}, fmt.Errorf("%w: %w", errStorage, err)
	}
	o := media.PutOptions{Size: d.FileLength, ContentType: d.MIME}
	if len(d.FileSHA256) > 0 {
		o.SHA256 = hex.EncodeToString(d.FileSHA256)
	}
	obj, err := w.cfg.Media.Put(ctx, media.Key(c.id, d.MessageID), f, o)
	if err != nil && !errors.Is(err, media.ErrChecksum) {
		return media.Object{}, fmt.Errorf("%w: %w", errStorage, err)
	}
	return obj, err
}

// mediaFailed records a failed attempt: the next one is due after a
// backoff; media gone from the phone ends expired, media that can never be
// fetched (or failing mediaAttempts times) failed.
func (c *channelRun) mediaFailed(ctx context.Context, d *store.Media, err error, log interface {
	Warn(string, ...any)
}) {
	w := c.sr.w
	final, outcome := "", "retry"
	switch {
	case errors.Is(err, session.ErrMediaGone):
		final, outcome = store.MediaExpired, "expired"
	case errors.Is(err, session.ErrInvalid):
		final, outcome = store.MediaFailed, "failed"
	case !errors.Is(err, errStorage) && d.Attempts+1 >= mediaAttempts:
		final, outcome = store.MediaFailed, "failed"
	}
	delay := backoff(w.cfg.MediaRetryBase, mediaRetryMax, d.Attempts+1)
	if errors.Is(err, errStorage) || errors.Is(err, session.ErrNotConnected) {
		delay = backoff(w.cfg.MediaRetryBase, time.Minute, d.Attempts+1)
	}
	metricMediaDownloads.WithLabelValues(outcome).Inc()
	log.Warn("media download failed", "err", err, "attempt", d.Attempts+1, "final", final, "retry_in", delay.Round(time.Millisecond))
	var evs []store.OutboxEvent
	if final != "" {
		row := *d
		row.Status = final
		ev, eerr := c.outboxEvent(event.MessageMediaFailed, MediaFailedData{MessageID: d.MessageID, ID: d.WAID, Chat: d.Chat,
			Code: mediaFailureCode(err), Reason: err.Error(), Media: mediaInfo(c.id, &row)})
		if eerr != nil {
			log.Warn("cannot encode event", "type", event.MessageMediaFailed, "err", eerr)
		} else {
			evs = append(evs, ev)
		}
	}
	changed, werr := w.cfg.Store.MediaAttemptFailed(ctx, c.id, d.MessageID, err.Error(), delay, final, evs...)
	if werr != nil {
		log.Warn("cannot record the failed media download; the sweep retries it", "err", werr)
		return
	}
	if changed && len(evs) > 0 {
		w.published(ctx, []event.Envelope{evs[0].Event})
	}
}

// Codes of message.media_failed.
const (
	// MediaCodeGone: WhatsApp's copy expired and the phone no longer has
	// the file (media.status expired).
	MediaCodeGone = "media_gone"
	// MediaCodeInvalid: the message's reference cannot fetch a file (bad
	// keys, a file that does not decrypt).
	MediaCodeInvalid = "invalid_media"
	// MediaCodeChecksum: the file fetched does not have the SHA-256 the
	// message announced, on every attempt.
	MediaCodeChecksum = "checksum_mismatch"
	// MediaCodeAttempts: every attempt failed (network, WhatsApp's media
	// servers); the last error is the reason.
	MediaCodeAttempts = "attempts_exhausted"
)

// mediaFailureCode is the code of a download that failed for good with err.
func mediaFailureCode(err error) string {
	switch {
	case errors.Is(err, session.ErrMediaGone):
		return MediaCodeGone
	case errors.Is(err, session.ErrInvalid):
		return MediaCodeInvalid
	case errors.Is(err, media.ErrChecksum):
		return MediaCodeChecksum
	}
	return MediaCodeAttempts
}

// MediaFailedData is the data of message.media_failed.
type MediaFailedData struct {
	MessageID string `json:"message_id"`
	ID        string `json:"id,omitempty"`
	Chat      string `json:"chat"`
	// Code is media_gone, invalid_media, checksum_mismatch or
	// attempts_exhausted; Reason the last error.
	Code   string     `json:"code"`
	Reason string     `json:"reason"`
	Media  media.Info `json:"media"`
}

// sweepMedia starts the downloads of the shard that are due: wanted and
// pending, whose last attempt failed or whose start was lost.
func (sr *shardRun) sweepMedia(ctx context.Context) {
	if sr.w.cfg.Media == nil {
		return
	}
	due, err := sr.w.cfg.Store.DueMedia(ctx, sr.k, 64)
	if err != nil {
		if sr.ctx.Err() == nil {
			sr.log.Warn("sweep of media downloads failed; retrying", "err", err)
		}
		return
	}
	for _, d := range due {
		if !sr.w.downloads.busy(d.MessageID) {
			sr.channel(d.ChannelID).enqueue(job{media: d})
		}
	}
}

// retainMedia deletes the files stored longer ago than MediaRetention,
// every MediaRetentionEvery, until ctx ends. Every worker runs it:
// deleting twice is harmless.
func (w *Worker) retainMedia(ctx context.Context) {
	t := time.NewTicker(w.cfg.MediaRetentionEvery)
	defer t.Stop()
	for {
		if err := w.deleteOldMedia(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("media retention failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deleteOldMedia deletes the files past retention and marks them expired.
func (w *Worker) deleteOldMedia(ctx context.Context) error {
	for {
		old, err := w.cfg.Store.MediaPastRetention(ctx, time.Now().Add(-w.cfg.MediaRetention), 200)
		if err != nil || len(old) == 0 {
			return err
		}
		ids := make([]string, 0, len(old))
		for _, d := range old {
			key := d.StorageKey
			if key == "" {
				key = media.Key(d.ChannelID, d.MessageID)
			}
			if err := w.cfg.Media.Delete(ctx, key); err != nil {
				return err
			}
			ids = append(ids, d.MessageID)
		}
		if err := w.cfg.Store.MediaDeleted(ctx, ids); err != nil {
			return err
		}
		w.log.Info("media past retention deleted", "files", len(ids))
		if len(old) < 200 {
			return nil
		}
	}
}

// deleteChannelMedia deletes every file of a deleted channel.
func (c *channelRun) deleteChannelMedia(ctx context.Context) {
	if c.sr.w.cfg.Media == nil {
		return
	}
	if err := c.sr.w.cfg.Media.DeletePrefix(ctx, media.ChannelPrefix(c.id)); err != nil {
		c.log.Warn("cannot delete the media of the deleted channel", "err", err)
	}
}

// mediaSettings is settings.media of a channel.
type mediaSettings struct {
	AutoDownload *autoDownload `json:"auto_download"`
}

// loadStoredFile puts the file a send made with base64 was stored with
// (messaging.StoredFile) back into req for the driver. A file missing
// from the store fails the send; a storage outage is retried.
func (c *channelRun) loadStoredFile(ctx context.Context, messageID string, req *messaging.Request) error {
	if req.Media == nil || req.Media.Stored == nil {
		return nil
	}
	if c.sr.w.cfg.Media == nil {
		return fmt.Errorf("%w: no media store to read the file from", session.ErrInvalidMedia)
	}
	f, err := c.sr.w.cfg.Media.Open(ctx, media.Key(c.id, messageID))
	if errors.Is(err, media.ErrNotFound) {
		return fmt.Errorf("%w: the stored file is gone", session.ErrInvalidMedia)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errStorage, err)
	}
	defer f.Close()
	var b strings.Builder
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	if _, err := io.Copy(enc, io.LimitReader(f, req.Media.Stored.Size+1)); err != nil {
		return fmt.Errorf("%w: %w", errStorage, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("%w: %w", errStorage, err)
	}
	file := *req.Media
	file.Base64, file.Stored = b.String(), nil
	req.Media = &file
	return nil
}
