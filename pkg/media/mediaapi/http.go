// Package mediaapi serves the file of a message:
// GET /v1/channels/{id}/messages/{message_id}/media, authorised like every
// channel route. A stored file is streamed from the media store with its
// type, length, ETag (its SHA-256) and range support (206). A file not
// stored yet answers 202 with Retry-After, after asking the channel's
// owner to fetch it (the media is marked wanted first, so the owner's
// sweep fetches it even if the request is lost). No file: 404
// media_not_found. The storage down: 503 storage_unavailable with
// Retry-After; nothing changes, the request is retried.
package mediaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures the route.
type Config struct {
	Store  *store.Store
	Media  media.Store
	Bus    *bus.Bus
	Logger *slog.Logger
}

// Handlers serves the route.
type Handlers struct{ cfg Config }

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handlers{cfg: cfg}
}

// Mount registers the route behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	r.GET("/v1/channels/:id/messages/:msg_id/media", auth, httpapi.LoadChannel(h.cfg.Store), h.serve)
}

// pendingRetryAfter is the Retry-After of a file still being fetched.
const pendingRetryAfter = 2

// storageRetryAfter is the Retry-After of a storage outage.
const storageRetryAfter = 5

func notFound(msgID, why string, status string) *httpapi.Error {
	e := httpapi.Errorf(http.StatusNotFound, "media_not_found", "message %s has no stored file: %s", msgID, why)
	if status != "" {
		e = e.WithDetails(map[string]string{"status": status})
	}
	return e
}

func (h *Handlers) serve(c *gin.Context) {
	ctx := c.Request.Context()
	ch := httpapi.ChannelOf(c)
	msgID := c.Param("msg_id")
	d, err := h.cfg.Store.Media(ctx, ch.ID, msgID)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, notFound(msgID, "it is not a media message of this channel", ""))
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	switch d.Status {
	case store.MediaPending:
		h.pending(c, ch.ID, d)
		return
	case store.MediaExpired:
		httpapi.Abort(c, notFound(msgID, "it expired (deleted after WAGATE_MEDIA_RETENTION, or gone from WhatsApp and the phone)", d.Status))
		return
	case store.MediaFailed:
		httpapi.Abort(c, notFound(msgID, "it could not be fetched from WhatsApp: "+d.Error, d.Status))
		return
	}
	key := d.StorageKey
	if key == "" {
		key = media.Key(ch.ID, msgID)
	}
	f, err := h.cfg.Media.Open(ctx, key)
	if errors.Is(err, media.ErrNotFound) {
		httpapi.Abort(c, notFound(msgID, "the file is missing from the media storage", d.Status))
		return
	}
	if err != nil {
		h.cfg.Logger.Warn("media storage unavailable", "channel_id", ch.ID, "message_id", msgID, "err", err)
		c.Header("Retry-After", strconv.Itoa(storageRetryAfter))
		httpapi.Abort(c, messaging.ErrStorageUnavailable)
		return
	}
	defer f.Close()
	hd := c.Writer.Header()
	if d.MIME != "" {
		hd.Set("Content-Type", d.MIME)
	} else {
		hd.Set("Content-Type", "application/octet-stream")
	}
	if d.SHA256 != "" {
		hd.Set("ETag", `"`+d.SHA256+`"`)
	}
	hd.Set("Cache-Control", "private, max-age=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	if d.FileName != "" {
		hd.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": d.FileName}))
	}
	var mod time.Time
	if d.StoredAt != nil {
		mod = *d.StoredAt
	}
	// ServeContent answers ranges (206, 416), If-None-Match against the
	// ETag and HEAD, reading only the bytes it sends.
	http.ServeContent(c.Writer, c.Request, "", mod, f)
}

// pending marks the file wanted, asks the owner to fetch it and answers 202.
func (h *Handlers) pending(c *gin.Context, channelID string, d *store.Media) {
	ctx := c.Request.Context()
	if !d.Wanted {
		if _, err := h.cfg.Store.WantMedia(ctx, channelID, d.MessageID); err != nil {
			httpapi.Abort(c, err)
			return
		}
	}
	env := command.Envelope{RequestID: ids.New("req_"), RequestedAt: time.Now().UTC(), MessageID: d.MessageID}
	body, _ := json.Marshal(env)
	if err := h.cfg.Bus.PublishCommand(ctx, channelID, command.DownloadMedia, env.RequestID, body); err != nil {
		// Wanted is stored: the owner's sweep fetches it without the command.
		h.cfg.Logger.Warn("cannot publish a media download request; the owner's sweep fetches it", "channel_id", channelID, "err", err)
	}
	c.Header("Retry-After", strconv.Itoa(pendingRetryAfter))
	c.JSON(http.StatusAccepted, gin.H{"status": d.Status, "message_id": d.MessageID, "url": media.Path(channelID, d.MessageID),
		"message": fmt.Sprintf("the file is being fetched from WhatsApp; retry after %d s", pendingRetryAfter)})
}
