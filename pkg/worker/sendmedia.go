package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/ssrf"
	"github.com/wagate/wagate/pkg/store"
)

// Files of sends. Every file a channel sends is kept in the media store
// under the message's key and served by the media route, as received
// files are: a base64 file is stored by the API before the message is
// queued (messaging.storeBase64); a URL is fetched here, by the owner, right
// before the send, streamed from the remote server into the store (never
// whole in memory) through pkg/ssrf's dialer, and its media row recorded as
// stored. Either way the driver then gets the file back from the store.
// Once WhatsApp accepted the message, the keys of the upload
// (session.SendResult.Media: direct path, media key, digests, length, MIME
// type, thumbnail, seconds, waveform) are recorded with the sent status in
// one transaction, and message.sent carries the file's media member.

// Defaults of fetching media URLs.
const (
	defaultMediaFetchMax     = 64 << 20
	defaultMediaFetchTimeout = time.Minute
)

// newMediaFetchClient is the client media URLs are fetched with: it dials
// only what pkg/ssrf allows (checked on the address actually dialled,
// after DNS and on every redirect), ignores proxies, which would hide the
// address, and follows 3 redirects.
func newMediaFetchClient(allowPrivate bool) *http.Client {
	d := ssrf.Guard{AllowPrivate: allowPrivate}.Dialer(10 * time.Second)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 4
	return &http.Client{Transport: t, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("stopped after 3 redirects")
		}
		return nil
	}}
}

// errTooLarge stops a fetch past the size limit.
var errTooLarge = errors.New("media url: file larger than the limit")

// limitedReader fails with errTooLarge after max bytes, so that a store
// does not keep a cut file.
type limitedReader struct {
	r   io.Reader
	max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.max -= int64(n)
	if l.max < 0 {
		return n, errTooLarge
	}
	return n, err
}

// storeURLFile fetches the media URL of req into the media store under
// message m's key and records its media row (stored); req then names the
// stored file as a base64 send does. Nothing happens without a media store
// or a URL. A URL that can never give the file (refused address, unknown
// host, an answer other than 200, 429 and 5xx, a file over the limit) is
// session.ErrInvalidMedia; other failures are worth a retry.
func (c *channelRun) storeURLFile(ctx context.Context, m *store.Message, req *messaging.Request) error {
	cfg := c.sr.w.cfg
	if cfg.Media == nil || req.Media == nil || req.Media.URL == "" || req.Media.Stored != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MediaFetchTimeout)
	defer cancel()
	raw := req.Media.URL
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return fmt.Errorf("%w: media url: %v", session.ErrInvalidMedia, err)
	}
	resp, err := cfg.MediaFetchClient.Do(hreq)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.Is(err, ssrf.ErrRefused) || (errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
			return fmt.Errorf("%w: media url: %w", session.ErrInvalidMedia, err)
		}
		return fmt.Errorf("fetch media url: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("fetch media url: %s answered %s", hreq.URL.Host, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%w: media url answered %s", session.ErrInvalidMedia, resp.Status)
	case resp.ContentLength > cfg.MediaFetchMax:
		return fmt.Errorf("%w: media is %d bytes, more than the limit of %d", session.ErrInvalidMedia, resp.ContentLength, cfg.MediaFetchMax)
	}
	body := bufio.NewReaderSize(resp.Body, 512)
	head, _ := body.Peek(512)
	mt := fetchedType(req.Media.MIME, resp.Header.Get("Content-Type"), head)
	key := media.Key(c.id, m.ID)
	obj, err := cfg.Media.Put(ctx, key, &limitedReader{r: body, max: cfg.MediaFetchMax}, media.PutOptions{Size: resp.ContentLength, ContentType: mt})
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("%w: media is more than the limit of %d bytes", session.ErrInvalidMedia, cfg.MediaFetchMax)
	case err != nil && ctx.Err() == nil && !isFetchError(err):
		return fmt.Errorf("%w: %w", errStorage, err)
	case err != nil:
		return fmt.Errorf("fetch media url: %w", err)
	case obj.Size == 0:
		return fmt.Errorf("%w: media is empty", session.ErrInvalidMedia)
	}
	file := *req.Media
	if file.MIME == "" && mt != "" && !genericType(mt) {
		file.MIME = mt // what the driver would have taken from the header
	}
	if file.Filename == "" && req.Type == messaging.TypeDocument {
		if u, err := url.Parse(raw); err == nil {
			if base := path.Base(u.Path); base != "." && base != "/" && base != "" {
				file.Filename = base
			}
		}
	}
	d := &store.Media{MessageID: m.ID, ChannelID: c.id, Kind: req.Type, MIME: mt, FileName: file.Filename, Status: store.MediaStored,
		StorageKey: obj.Key, SHA256: obj.SHA256, Size: obj.Size}
	if err := cfg.Store.SentFileStored(ctx, d); err != nil {
		return err
	}
	file.URL, file.Stored = "", &messaging.StoredFile{SHA256: obj.SHA256, Size: obj.Size}
	req.Media = &file
	return nil
}

// isFetchError reports whether a failed Put failed reading the remote
// body (the remote end, not the store).
func isFetchError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// fetchedType is the MIME type of a fetched file: declared by the send,
// else by the remote server, else sniffed from its first bytes.
func fetchedType(declared, header string, head []byte) string {
	t, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	for _, v := range []string{declared, header} {
		if d, _, err := mime.ParseMediaType(v); err == nil && !genericType(d) {
			t = d
			break
		}
	}
	if t == "application/ogg" {
		return "audio/ogg" // Ogg files of sends are audio (voice notes)
	}
	return t
}

func genericType(t string) bool {
	return t == "application/octet-stream" || t == "binary/octet-stream" || t == "text/plain" || t == "application/zip"
}

// sentFile is the media row of a sent file from what the driver reported
// (nil when it reported none) and the stored file (nil when not stored).
func sentFile(ref *session.MediaRef, stored *messaging.StoredFile) *store.Media {
	if ref == nil {
		return nil
	}
	d := &store.Media{Kind: ref.Kind, DirectPath: ref.DirectPath, MediaKey: ref.MediaKey, FileEncSHA256: ref.FileEncSHA256,
		FileSHA256: ref.FileSHA256, FileLength: ref.FileLength, MIME: ref.MIME, FileName: ref.FileName, Thumbnail: ref.Thumbnail,
		Seconds: int(ref.Seconds), Waveform: ref.Waveform, Status: store.MediaPending, WAID: ref.MessageID, FromMe: true}
	if stored != nil {
		d.Status, d.SHA256, d.Size = store.MediaStored, stored.SHA256, stored.Size
	}
	return d
}
