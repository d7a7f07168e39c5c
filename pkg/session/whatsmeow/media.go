package whatsmeow

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/media/preview"
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
		if t := bareType(v); t == "application/ogg" {
			return "audio/ogg" // what servers call Ogg files: audio for WhatsApp
		} else if t != "" && !genericType(t) {
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
	f, err := bd.fetch.prepare(ctx, b)
	if err != nil {
		return nil, err
	}
	data, mt, pv := f.data, f.mime, f.preview
	up, err := bd.up.Upload(ctx, data, mediaTypes[b.Type])
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: upload %s: %w", b.Type, err)
	}
	caption := optional(b.Media.Caption)
	switch b.Type {
	case "image":
		m := &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption, JPEGThumbnail: pv.Thumbnail,
		}
		if pv.Width > 0 {
			m.Width, m.Height = proto.Uint32(uint32(pv.Width)), proto.Uint32(uint32(pv.Height))
		}
		return &waE2E.Message{ImageMessage: m}, nil
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption, JPEGThumbnail: pv.Thumbnail, Seconds: optionalUint(pv.Seconds),
		}}, nil
	case "audio":
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), PTT: proto.Bool(b.Voice), Seconds: optionalUint(pv.Seconds), Waveform: pv.Waveform,
		}}, nil
	case "sticker":
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt),
		}}, nil
	default:
		name := f.name
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
			Mimetype: proto.String(mt), Caption: caption, FileName: proto.String(name), Title: proto.String(name),
		}}, nil
	}
}

// file is the media of a send, loaded and checked, ready to upload.
type file struct {
	data    []byte
	mime    string // as sent
	name    string // a document's
	preview preview.Preview
}

// prepare loads the media of b and checks it against the type; the file
// gets what the message shows before it is fetched (previewOf).
func (f *fetcher) prepare(ctx context.Context, b SendBody) (file, error) {
	if b.Media == nil {
		return file{}, invalid("%s needs media", b.Type)
	}
	if b.Voice && b.Type != "audio" {
		return file{}, invalid("voice applies to audio only")
	}
	data, mt, err := f.load(ctx, b.Media)
	if err != nil {
		return file{}, err
	}
	switch b.Type {
	case "image":
		if !strings.HasPrefix(mt, "image/") {
			return file{}, invalid("image media is %s", mt)
		}
	case "video":
		if !strings.HasPrefix(mt, "video/") {
			return file{}, invalid("video media is %s", mt)
		}
	case "audio":
		if !strings.HasPrefix(mt, "audio/") {
			return file{}, invalid("audio media is %s", mt)
		}
		if b.Voice {
			if mt != "audio/ogg" {
				return file{}, invalid("a voice note must be OGG/Opus audio, not %s", mt)
			}
			mt = voiceMIME
		}
	case "sticker":
		if mt != "image/webp" {
			return file{}, invalid("a sticker must be image/webp, not %s", mt)
		}
	}
	pv, err := previewOf(b, mt, data)
	if err != nil {
		return file{}, err
	}
	out := file{data: data, mime: mt, preview: pv}
	if b.Type == "document" {
		out.name = b.Media.Filename
		if out.name == "" {
			out.name = fileName(b.Media.URL, mt)
		}
	}
	return out, nil
}

// Prepared is the media of a send as Send uploads it.
type Prepared struct {
	Data []byte
	// MIME is the type as sent; FileName a document's name.
	MIME, FileName string
	// Preview is what the message shows before its file is fetched.
	Preview preview.Preview
}

// PrepareMedia loads and checks the media of a send body exactly as Send
// does before uploading it, from base64 only (fetching URLs is the
// driver's). Errors are Send's (session.ErrInvalidMedia). The simulator
// sends media through it, so both drivers accept, refuse and describe the
// same files.
func PrepareMedia(b SendBody) (Prepared, error) {
	if b.Media != nil && b.Media.URL != "" {
		return Prepared{}, fmt.Errorf("%w: %w: media url", session.ErrInvalidMedia, session.ErrUnsupported)
	}
	f, err := (&fetcher{max: defaultMediaMax}).prepare(context.Background(), b)
	if errors.Is(err, session.ErrInvalid) {
		err = fmt.Errorf("%w: %w", session.ErrInvalidMedia, err)
	}
	return Prepared{Data: f.data, MIME: f.mime, FileName: f.name, Preview: f.preview}, err
}

// previewOf is what the message of b shows before its file is fetched:
// what b gives, completed from the file (package preview).
func previewOf(b SendBody, mt string, data []byte) (preview.Preview, error) {
	given, err := GivenPreview(b.Type, b.Voice, b.Media)
	if err != nil {
		return given, err
	}
	pv, err := preview.Of(b.Type, b.Voice, mt, data, given)
	if errors.Is(err, preview.ErrNotOpus) {
		return pv, invalid("a voice note must be OGG/Opus audio: %v", err)
	}
	return pv, err
}

// GivenPreview checks and decodes the preview a send body gives for a
// message of kind: thumbnail (base64 JPEG, images and videos), seconds
// (audio and video) and waveform (voice notes: WaveformLen values from 0
// to 100). The simulator reads send bodies with it too.
func GivenPreview(kind string, voice bool, m *Media) (preview.Preview, error) {
	var p preview.Preview
	if m == nil {
		return p, nil
	}
	if m.Thumbnail != "" {
		if kind != "image" && kind != "video" {
			return p, invalid("media.thumbnail applies to images and videos")
		}
		t, err := base64.StdEncoding.DecodeString(m.Thumbnail)
		if err != nil || len(t) < 4 || t[0] != 0xff || t[1] != 0xd8 {
			return p, invalid("media.thumbnail must be a base64 JPEG")
		}
		p.Thumbnail = t
	}
	if m.Seconds > 0 {
		if kind != "audio" && kind != "video" {
			return p, invalid("media.seconds applies to audio and video")
		}
		p.Seconds = m.Seconds
	}
	if m.Waveform != nil {
		if kind != "audio" || !voice {
			return p, invalid("media.waveform applies to voice notes")
		}
		if len(m.Waveform) != preview.WaveformLen {
			return p, invalid("media.waveform needs %d values", preview.WaveformLen)
		}
		p.Waveform = make([]byte, len(m.Waveform))
		for i, v := range m.Waveform {
			if v < 0 || v > 100 {
				return p, invalid("media.waveform values are from 0 to 100")
			}
			p.Waveform[i] = byte(v)
		}
	}
	return p, nil
}

func optionalUint(v uint32) *uint32 {
	if v == 0 {
		return nil
	}
	return proto.Uint32(v)
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
