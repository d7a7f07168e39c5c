package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/session"
	wm "github.com/wagate/wagate/pkg/session/whatsmeow"
)

// The simulated media server. A media message the phone "sends" names a
// generated file: its direct path /sim/<kind>/<size>/<seed>[/r<n>] says
// how to make its bytes again (a real PNG, WAV, PDF header or MP4 box
// followed by deterministic filler), so the server keeps no files and the
// bytes, digests and ranges of a message are the same on every worker. A
// file can be made to expire at its direct path ("expired" argument of
// the inbound action: downloads then fail as whatsmeow's do with 404/410,
// and a media retry returns a new path) or to be gone from the phone as
// well ("gone": the retry fails).

var _ session.MediaDownloader = (*Session)(nil)

// Default sizes of generated files, by kind.
var defaultMediaSize = map[string]int64{"image": 48 << 10, "audio": 32 << 10, "document": 20 << 10, "video": 256 << 10, "sticker": 16 << 10}

// mediaTypes are the MIME types of generated files.
var mediaTypes = map[string]string{"image": "image/png", "audio": "audio/wav", "document": "application/pdf", "video": "video/mp4", "sticker": "image/webp"}

// simImage is the picture of generated images: a gradient of the seed.
func simImage(seed string) image.Image {
	h := sha256.Sum256([]byte(seed))
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{R: h[0] + uint8(x*3), G: h[1] + uint8(y*4), B: h[2], A: 255})
		}
	}
	return img
}

// mediaHeader is the real start of a generated file of kind.
func mediaHeader(kind, seed string, size int64) []byte {
	var b bytes.Buffer
	le := func(vs ...any) {
		for _, v := range vs {
			_ = binary.Write(&b, binary.LittleEndian, v)
		}
	}
	switch kind {
	case "image":
		_ = png.Encode(&b, simImage(seed)) // PNG readers ignore what follows IEND
	case "audio":
		// An 8 kHz 8-bit mono WAV whose samples (generated below) are a tone.
		b.WriteString("RIFF")
		le(uint32(size - 8))
		b.WriteString("WAVEfmt ")
		le(uint32(16), uint16(1), uint16(1), uint32(8000), uint32(8000), uint16(1), uint16(8))
		b.WriteString("data")
		le(uint32(size - 44))
	case "document":
		b.WriteString("%PDF-1.4\n% wagate simulator document " + seed + "\n")
	case "video":
		b.Write([]byte{0, 0, 0, 24})
		b.WriteString("ftypmp42\x00\x00\x00\x00mp42isom")
	case "sticker":
		b.WriteString("RIFF")
		le(uint32(size - 8))
		b.WriteString("WEBPVP8 ")
	}
	return b.Bytes()
}

// mediaReader returns the size bytes of a generated file.
func mediaReader(kind, seed string, size int64) io.Reader {
	head := mediaHeader(kind, seed, size)
	if int64(len(head)) >= size {
		return bytes.NewReader(head[:size])
	}
	var filler io.Reader
	if kind == "audio" {
		filler = &toneReader{hz: 300 + float64(sha256.Sum256([]byte(seed))[0])}
	} else {
		filler = rand.NewChaCha8(sha256.Sum256([]byte(seed)))
	}
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(filler, size-int64(len(head))))
}

// toneReader yields the samples of a tone (300–555 Hz by seed) at 8 kHz,
// 8 bits.
type toneReader struct {
	hz float64
	i  int
}

func (t *toneReader) Read(p []byte) (int, error) {
	for k := range p {
		p[k] = byte(128 + 90*math.Sin(2*math.Pi*t.hz*float64(t.i)/8000))
		t.i++
	}
	return len(p), nil
}

// simMedia describes the generated file of a new inbound media message.
func simMedia(kind, seed string, size int64, fileName, caption string) (*session.MediaData, *session.MediaRef, error) {
	mime, ok := mediaTypes[kind]
	if !ok {
		return nil, nil, fmt.Errorf("%w: media type %q is not image, audio, document, video or sticker", session.ErrInvalid, kind)
	}
	if size <= 0 {
		size = defaultMediaSize[kind]
	}
	if minimum := int64(len(mediaHeader(kind, seed, 1<<20))); size < minimum {
		size = minimum
	}
	if size > 512<<20 {
		return nil, nil, fmt.Errorf("%w: media size is at most 512 MiB", session.ErrInvalid)
	}
	h := sha256.New()
	if _, err := io.Copy(h, mediaReader(kind, seed, size)); err != nil {
		return nil, nil, err
	}
	sum := h.Sum(nil)
	key := sha256.Sum256([]byte("media key " + seed))
	enc := sha256.Sum256(append([]byte("enc "), sum...))
	if kind == "document" && fileName == "" {
		fileName = "sim-" + seed + ".pdf"
	}
	ref := &session.MediaRef{Kind: kind, DirectPath: "/sim/" + kind + "/" + strconv.FormatInt(size, 10) + "/" + seed,
		MediaKey: key[:], FileEncSHA256: enc[:], FileSHA256: sum, FileLength: size, MIME: mime, FileName: fileName}
	d := &session.MediaData{MIME: mime, Size: uint64(size), SHA256: fmt.Sprintf("%x", sum), Filename: fileName, Caption: caption}
	switch kind {
	case "image":
		d.Width, d.Height = 64, 48
		var thumb bytes.Buffer
		_ = jpeg.Encode(&thumb, simImage(seed), &jpeg.Options{Quality: 60})
		ref.Thumbnail = thumb.Bytes()
	case "audio":
		d.Seconds = uint32((size - 44) / 8000)
	case "video":
		d.Width, d.Height = 64, 48
	}
	return d, ref, nil
}

// parseDirectPath reads /sim/<kind>/<size>/<seed>[/r<n>].
func parseDirectPath(p string) (kind, seed string, size int64, err error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(parts) < 4 || parts[0] != "sim" {
		return "", "", 0, fmt.Errorf("%w: not a simulator media path: %q", session.ErrInvalid, p)
	}
	size, err = strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("%w: not a simulator media path: %q", session.ErrInvalid, p)
	}
	return parts[1], parts[3], size, nil
}

// DownloadMedia writes the generated file of ref into f, as whatsmeow's
// DownloadMediaWithPathToFile does: ErrMediaExpired (whatsmeow's 404/410)
// for a path that expired, and the length and SHA-256 checked against
// the message's.
func (s *Session) DownloadMedia(ctx context.Context, ref session.MediaRef, f *os.File) error {
	if err := s.connectedNow(); err != nil {
		return err
	}
	kind, seed, size, err := parseDirectPath(ref.DirectPath)
	if err != nil {
		return err
	}
	expired, err := s.d.cfg.Redis.HExists(ctx, s.d.cfg.Keys.SimMedia(), "expired:"+ref.DirectPath).Result()
	if err != nil {
		return fmt.Errorf("sim: media server: %w", err)
	}
	if expired {
		return fmt.Errorf("sim: download %s: %w (410)", ref.DirectPath, session.ErrMediaExpired)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, mediaReader(kind, seed, size)})
	if err != nil {
		return fmt.Errorf("sim: download %s: %w", ref.DirectPath, err)
	}
	if n != ref.FileLength || !bytes.Equal(h.Sum(nil), ref.FileSHA256) {
		return fmt.Errorf("sim: download %s: file length or hash does not match the message", ref.DirectPath)
	}
	return nil
}

// RetryMedia answers a media retry receipt as the phone does: after a
// connect delay, with a new direct path, or ErrMediaGone.
func (s *Session) RetryMedia(ctx context.Context, ref session.MediaRef) (string, error) {
	if err := s.connectedNow(); err != nil {
		return "", err
	}
	gone, err := s.d.cfg.Redis.HExists(ctx, s.d.cfg.Keys.SimMedia(), "gone:"+ref.MessageID).Result()
	if err != nil {
		return "", fmt.Errorf("sim: media retry: %w", err)
	}
	select {
	case <-time.After(s.d.cfg.scale(s.d.cfg.ConnectDelay)):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if gone {
		return "", fmt.Errorf("sim: media retry %s: %w", ref.MessageID, session.ErrMediaGone)
	}
	base, n := ref.DirectPath, 0
	if i := strings.LastIndex(base, "/r"); i > 0 {
		if v, err := strconv.Atoi(base[i+2:]); err == nil {
			base, n = base[:i], v
		}
	}
	return base + "/r" + strconv.Itoa(n+1), nil
}

// expireMedia makes the media server forget the file at path, and the
// phone too when gone.
func (s *Session) expireMedia(ctx context.Context, path, messageID string, gone bool) error {
	fields := []any{"expired:" + path, 1}
	if gone {
		fields = append(fields, "gone:"+messageID, 1)
	}
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HSet(ctx, s.d.cfg.Keys.SimMedia(), fields...)
	pipe.Expire(ctx, s.d.cfg.Keys.SimMedia(), pendingTTL)
	_, err := pipe.Exec(ctx)
	return err
}

func (s *Session) connectedNow() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != connected {
		return session.ErrNotConnected
	}
	return nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// sentMedia is what the simulated media server keeps of the file of a
// media send, as whatsmeow's upload reports it: the file is checked and
// described by the whatsmeow driver's own code (PrepareMedia: the same
// thumbnail, seconds and waveform, the same refusals as
// session.ErrInvalidMedia), and gets keys derived from the message id. A
// send without a base64 file (its URL is the worker's to fetch) gets nil,
// as does a message that is not media.
func sentMedia(m session.Outbound) (*session.MediaRef, error) {
	switch m.Type {
	case "image", "video", "audio", "document", "sticker":
	default:
		return nil, nil
	}
	var b wm.SendBody
	if len(m.Body) > 0 {
		if err := json.Unmarshal(m.Body, &b); err != nil {
			return nil, fmt.Errorf("%w: send body: %v", session.ErrInvalid, err)
		}
	}
	if b.Media == nil || b.Media.Base64 == "" {
		return nil, nil
	}
	b.Type = m.Type
	p, err := wm.PrepareMedia(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(p.Data)
	key := sha256.Sum256([]byte("media key " + m.ID))
	enc := sha256.Sum256(append(key[:], p.Data...))
	return &session.MediaRef{Kind: m.Type, DirectPath: "/sim/sent/" + WAID(m.ID), MediaKey: key[:], FileEncSHA256: enc[:],
		FileSHA256: sum[:], FileLength: int64(len(p.Data)), MIME: p.MIME, FileName: p.FileName,
		Thumbnail: p.Preview.Thumbnail, Seconds: p.Preview.Seconds, Waveform: p.Preview.Waveform,
		MessageID: WAID(m.ID), FromMe: true}, nil
}
