package whatsmeow

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image sizes of sent JPEGs
	_ "image/png"  // and PNGs
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/ssrf"
)

// fetcher loads the media of send commands: it downloads URLs with a size
// limit and a timeout, or decodes base64.
type fetcher struct {
	client  *http.Client
	max     int64
	timeout time.Duration
}

// newFetchClient is the shared client media URLs are downloaded with. It
// dials what pkg/ssrf allows only (as webhooks do), unless allowPrivate,
// checking the address actually dialled (after DNS, on every redirect) so
// that a name resolving to an internal address cannot reach the server's
// network. It ignores proxy settings, which would hide the address, and
// follows 3 redirects.
func newFetchClient(dialTimeout time.Duration, allowPrivate bool) *http.Client {
	d := ssrf.Guard{AllowPrivate: allowPrivate}.Dialer(dialTimeout)
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = dialTimeout
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 4
	return &http.Client{
		Transport: t,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("stopped after 3 redirects")
			}
			return nil
		},
	}
}

// load returns the bytes of m and their MIME type (without parameters).
func (f *fetcher) load(ctx context.Context, m *Media) ([]byte, string, error) {
	var (
		data   []byte
		header string // the MIME type the source declared
		err    error
	)
	switch {
	case m.URL != "" && m.Base64 != "":
		return nil, "", invalid("media takes url or base64, not both")
	case m.URL != "":
		data, header, err = f.download(ctx, m.URL)
	case m.Base64 != "":
		data, header, err = f.decode(m.Base64)
	default:
		return nil, "", invalid("media needs url or base64")
	}
	if err != nil {
		return nil, "", err
	}
	if len(data) == 0 {
		return nil, "", invalid("media is empty")
	}
	return data, mediaType(m.MIME, header, data, m.Filename), nil
}

// mediaType picks the MIME type: declared by the sender of the command,
// else by the source, else sniffed from the bytes, else guessed from the
// file name.
func mediaType(explicit, header string, data []byte, filename string) string {
	for _, v := range []string{explicit, header} {
		if t := bareType(v); t != "" && !genericType(t) {
			return t
		}
	}
	t := bareType(http.DetectContentType(data))
	if genericType(t) && filename != "" {
		if byExt := bareType(mime.TypeByExtension(path.Ext(filename))); byExt != "" {
			return byExt
		}
	}
	if t == "application/ogg" {
		return "audio/ogg"
	}
	return t
}

func bareType(v string) string {
	t, _, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return t
}

func genericType(t string) bool {
	return t == "application/octet-stream" || t == "binary/octet-stream" || t == "text/plain" || t == "application/zip"
}

func (f *fetcher) download(ctx context.Context, raw string) ([]byte, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", invalid("media url must be an http or https URL")
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", invalid("media url: %v", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.Is(err, ssrf.ErrRefused) || (errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
			return nil, "", fmt.Errorf("%w: media url: %w", session.ErrInvalid, err)
		}
		return nil, "", fmt.Errorf("whatsmeow: fetch media: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, "", fmt.Errorf("whatsmeow: fetch media: %s answered %s", u.Host, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, "", invalid("media url answered %s", resp.Status)
	case resp.ContentLength > f.max:
		return nil, "", invalid("media is %d bytes, more than the limit of %d", resp.ContentLength, f.max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.max+1))
	if err != nil {
		return nil, "", fmt.Errorf("whatsmeow: fetch media: %w", err)
	}
	if int64(len(data)) > f.max {
		return nil, "", invalid("media is more than the limit of %d bytes", f.max)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// decode reads base64 media, with or without a data: URI prefix (whose
// type counts as declared by the source).
func (f *fetcher) decode(s string) ([]byte, string, error) {
	var declared string
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		meta, payload, found := strings.Cut(rest, ",")
		if !found || !strings.HasSuffix(meta, ";base64") {
			return nil, "", invalid("media base64: malformed data URI")
		}
		declared, s = strings.TrimSuffix(meta, ";base64"), payload
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if int64(base64.StdEncoding.DecodedLen(len(s))) > f.max+3 {
		return nil, "", invalid("media is more than the limit of %d bytes", f.max)
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, "", invalid("media base64: %v", err)
	}
	if int64(len(data)) > f.max {
		return nil, "", invalid("media is more than the limit of %d bytes", f.max)
	}
	return data, declared, nil
}

// voiceMIME is the type WhatsApp plays voice notes in.
const voiceMIME = "audio/ogg; codecs=opus"

// media builds an image, video, audio, document or sticker message: the
// file is loaded, checked against the type, and uploaded.
func (bd *builder) media(ctx context.Context, b SendBody) (*waE2E.Message, error) {
	if b.Media == nil {
		return nil, invalid("%s needs media", b.Type)
	}
	if b.Voice && b.Type != "audio" {
		return nil, invalid("voice applies to audio only")
	}
	data, mt, err := bd.fetch.load(ctx, b.Media)
	if err != nil {
		return nil, err
	}
	kind := wa.MediaImage
	switch b.Type {
	case "image":
		if !strings.HasPrefix(mt, "image/") {
			return nil, invalid("image media is %s", mt)
		}
	case "video":
		kind = wa.MediaVideo
		if !strings.HasPrefix(mt, "video/") {
			return nil, invalid("video media is %s", mt)
		}
	case "audio":
		kind = wa.MediaAudio
		if !strings.HasPrefix(mt, "audio/") {
			return nil, invalid("audio media is %s", mt)
		}
		if b.Voice {
			if mt != "audio/ogg" {
				return nil, invalid("a voice note must be OGG/Opus audio, not %s", mt)
			}
			mt = voiceMIME
		}
	case "sticker":
		if mt != "image/webp" {
			return nil, invalid("a sticker must be image/webp, not %s", mt)
		}
	case "document":
		kind = wa.MediaDocument
	}
	up, err := bd.up.Upload(ctx, data, kind)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: upload %s: %w", b.Type, err)
	}
	caption := optional(b.Media.Caption)
	switch b.Type {
	case "image":
		m := &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption,
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
			m.Width, m.Height = proto.Uint32(uint32(cfg.Width)), proto.Uint32(uint32(cfg.Height))
		}
		return &waE2E.Message{ImageMessage: m}, nil
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption,
		}}, nil
	case "audio":
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), PTT: proto.Bool(b.Voice),
		}}, nil
	case "sticker":
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt),
		}}, nil
	default:
		name := b.Media.Filename
		if name == "" {
			name = fileName(b.Media.URL, mt)
		}
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption, FileName: proto.String(name), Title: proto.String(name),
		}}, nil
	}
}

// fileName names a document without one: the URL's last path element, or
// "file" with the extension of its type.
func fileName(rawURL, mt string) string {
	if u, err := url.Parse(rawURL); err == nil && rawURL != "" {
		if base := path.Base(u.Path); base != "." && base != "/" && base != "" {
			return base
		}
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return "file" + exts[0]
	}
	return "file"
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}
