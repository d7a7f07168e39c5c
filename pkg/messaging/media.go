package messaging

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/store"
)

// Media of sends and of the message log. A file sent as base64 is stored
// in the media store under the message's key before the message is
// enqueued, its media row written with the message; the log keeps a
// reference (media.stored) instead of megabytes of base64, and the worker
// reads the file back when it sends. The message list shows the media of
// every message as {mime, size, sha256, file_name, url, status}, read from
// the media rows, plus a short-lived presigned_url with an S3 store.

// ErrStorageUnavailable answers a request the media store could not serve.
var ErrStorageUnavailable = &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable",
	Message: "the media storage is unavailable; nothing was changed, retry the request shortly"}

// listPresignTTL is the lifetime of presigned URLs in the message list.
const listPresignTTL = 15 * time.Minute

// storeBase64 puts the base64 file of req into the media store and
// replaces it, in m's body, with a reference; m.Media is its row.
func (h *Handlers) storeBase64(ctx context.Context, m *store.Message, req *Request) *httpapi.Error {
	if h.cfg.Media == nil || req.Media == nil || req.Media.Base64 == "" {
		return nil
	}
	data, mime := req.Media.Base64, req.Media.MIME
	if i := strings.Index(data, ";base64,"); strings.HasPrefix(data, "data:") && i > 0 {
		if mime == "" {
			mime = data[len("data:"):i]
		}
		data = data[i+len(";base64,"):]
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return invalid("media.base64", "is not valid standard base64")
	}
	if mime == "" {
		mime = http.DetectContentType(raw)
	}
	key := media.Key(m.ChannelID, m.ID)
	obj, err := h.cfg.Media.Put(ctx, key, bytes.NewReader(raw), media.PutOptions{Size: int64(len(raw)), ContentType: mime})
	if err != nil {
		h.cfg.Logger.Warn("cannot store a base64 file", "channel_id", m.ChannelID, "err", err)
		return ErrStorageUnavailable
	}
	stripped := *req
	file := *req.Media
	file.Base64, file.Stored = "", &StoredFile{SHA256: obj.SHA256, Size: obj.Size}
	stripped.Media = &file
	m.Body, _ = json.Marshal(stripped)
	m.Media = &store.Media{Kind: req.Type, MIME: mime, FileName: req.Media.Filename, Status: store.MediaStored,
		StorageKey: key, SHA256: obj.SHA256, Size: obj.Size}
	return nil
}

// dropStored deletes the file stored for a send that was not enqueued.
func (h *Handlers) dropStored(m *store.Message) {
	if m.Media == nil || h.cfg.Media == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.cfg.Media.Delete(ctx, m.Media.StorageKey); err != nil {
		h.cfg.Logger.Warn("cannot delete the file of a send that was not enqueued", "key", m.Media.StorageKey, "err", err)
	}
}

// withMedia sets the media member of the messages that have a file: what
// the file is, its route and status (and a presigned URL with S3), never
// its base64.
func (h *Handlers) withMedia(ctx context.Context, channelID string, msgs []*store.Message) error {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	files, err := h.cfg.Store.MediaOf(ctx, channelID, ids)
	if err != nil || len(files) == 0 {
		return err
	}
	presigner, _ := h.cfg.Media.(media.Presigner)
	for _, m := range msgs {
		d := files[m.ID]
		if d == nil {
			continue
		}
		var body map[string]any
		if json.Unmarshal(m.Body, &body) != nil {
			continue
		}
		mm, _ := body["media"].(map[string]any)
		if mm == nil {
			mm = map[string]any{}
		}
		delete(mm, "base64")
		delete(mm, "stored")
		info := Info(channelID, d)
		if presigner != nil && d.Status == store.MediaStored {
			if u, err := presigner.Presign(ctx, d.StorageKey, listPresignTTL, d.FileName); err == nil {
				info.PresignedURL = u
			}
		}
		raw, _ := json.Marshal(info)
		var fields map[string]any
		_ = json.Unmarshal(raw, &fields)
		for k, v := range fields {
			mm[k] = v
		}
		body["media"] = mm
		if b, err := json.Marshal(body); err == nil {
			m.Body = b
		}
	}
	return nil
}

// Info describes the file of d as events and the message list show it.
func Info(channelID string, d *store.Media) media.Info {
	in := media.Info{MIME: d.MIME, Size: d.FileLength, FileName: d.FileName, URL: media.Path(channelID, d.MessageID), Status: d.Status,
		Thumbnail: d.Thumbnail, Seconds: d.Seconds}
	for _, v := range d.Waveform {
		in.Waveform = append(in.Waveform, int(v))
	}
	if len(d.FileSHA256) > 0 {
		in.SHA256 = hexOf(d.FileSHA256)
	}
	if d.Status == store.MediaStored || d.SHA256 != "" {
		in.Size, in.SHA256 = d.Size, d.SHA256
	}
	return in
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
