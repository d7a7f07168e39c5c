package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"os"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/session"
)

// Media of received (and sent) messages: the keys WhatsApp gives in the
// message are kept (session.MediaRef, stored by the worker), the file is
// downloaded on the worker's decision straight into a file with
// DownloadMediaWithPathToFile, and an expired direct path (404/410 from
// the media server) is refreshed with a media retry: SendMediaRetryReceipt
// asks the phone to upload the file again, and the events.MediaRetry it
// answers with, decrypted with the media key, carries the new path.

var _ session.MediaDownloader = (*Session)(nil)

// downloadable is what whatsmeow's media messages have in common.
type downloadable interface {
	GetDirectPath() string
	GetMediaKey() []byte
	GetFileEncSHA256() []byte
	GetFileSHA256() []byte
	GetFileLength() uint64
	GetMimetype() string
}

// mediaRef keeps the download keys of msg's media, nil for other messages.
func mediaRef(msg *waE2E.Message, info *types.MessageInfo) *session.MediaRef {
	var (
		m       downloadable
		kind    string
		name    string
		thumb   []byte
		seconds uint32
		wave    []byte
	)
	switch {
	case msg.GetImageMessage() != nil:
		m, kind, thumb = msg.GetImageMessage(), "image", msg.GetImageMessage().GetJPEGThumbnail()
	case msg.GetVideoMessage() != nil:
		v := msg.GetVideoMessage()
		m, kind, thumb, seconds = v, "video", v.GetJPEGThumbnail(), v.GetSeconds()
	case msg.GetPtvMessage() != nil:
		v := msg.GetPtvMessage()
		m, kind, thumb, seconds = v, "video", v.GetJPEGThumbnail(), v.GetSeconds()
	case msg.GetAudioMessage() != nil:
		a := msg.GetAudioMessage()
		m, kind, seconds, wave = a, "audio", a.GetSeconds(), a.GetWaveform()
	case msg.GetDocumentMessage() != nil:
		m, kind, name, thumb = msg.GetDocumentMessage(), "document", msg.GetDocumentMessage().GetFileName(), msg.GetDocumentMessage().GetJPEGThumbnail()
	case msg.GetStickerMessage() != nil:
		m, kind = msg.GetStickerMessage(), "sticker"
	default:
		return nil
	}
	if m.GetDirectPath() == "" || len(m.GetMediaKey()) == 0 {
		return nil // nothing to download it with
	}
	return &session.MediaRef{
		Kind: kind, DirectPath: m.GetDirectPath(), MediaKey: m.GetMediaKey(), FileEncSHA256: m.GetFileEncSHA256(),
		FileSHA256: m.GetFileSHA256(), FileLength: int64(m.GetFileLength()), MIME: m.GetMimetype(), FileName: name, Thumbnail: thumb,
		Seconds: seconds, Waveform: wave,
		MessageID: info.ID, Chat: info.Chat.String(), Sender: info.Sender.String(), FromMe: info.IsFromMe, IsGroup: info.IsGroup,
	}
}

// mediaTypes are whatsmeow's media types (the HKDF info of the keys) by kind.
var mediaTypes = map[string]wa.MediaType{
	"image": wa.MediaImage, "video": wa.MediaVideo, "audio": wa.MediaAudio, "document": wa.MediaDocument, "sticker": wa.MediaImage,
}

// DownloadMedia downloads and decrypts the file of ref into f; whatsmeow
// checks its MAC, length and SHA-256. 403, 404 and 410 from the media
// server are session.ErrMediaExpired.
func (s *Session) DownloadMedia(ctx context.Context, ref session.MediaRef, f *os.File) error {
	mt, ok := mediaTypes[ref.Kind]
	if !ok {
		return fmt.Errorf("whatsmeow: download: %w: media kind %q", session.ErrInvalid, ref.Kind)
	}
	cli, err := s.loggedIn()
	if err != nil {
		return fmt.Errorf("whatsmeow: download: %w", err)
	}
	err = cli.DownloadMediaWithPathToFile(ctx, ref.DirectPath, ref.FileEncSHA256, ref.FileSHA256, ref.MediaKey, int(ref.FileLength), mt, "", f)
	return downloadError(err)
}

// downloadError maps whatsmeow's download errors to the session's.
func downloadError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wa.ErrMediaDownloadFailedWith403), errors.Is(err, wa.ErrMediaDownloadFailedWith404), errors.Is(err, wa.ErrMediaDownloadFailedWith410):
		return fmt.Errorf("whatsmeow: download: %w: %w", session.ErrMediaExpired, err)
	}
	return fmt.Errorf("whatsmeow: download: %w", err)
}

// RetryMedia sends a media retry receipt for ref's message and waits for
// the phone's answer (events.MediaRetry), bounded by ctx.
func (s *Session) RetryMedia(ctx context.Context, ref session.MediaRef) (string, error) {
	cli, err := s.loggedIn()
	if err != nil {
		return "", fmt.Errorf("whatsmeow: media retry: %w", err)
	}
	return s.retryMedia(ctx, ref, cli.SendMediaRetryReceipt)
}

// retryMedia is RetryMedia with the receipt's sender as a parameter, so
// that the wait and the decryption are tested with whatsmeow's events.
func (s *Session) retryMedia(ctx context.Context, ref session.MediaRef, send func(context.Context, *types.MessageInfo, []byte) error) (string, error) {
	info, err := retryInfo(ref)
	if err != nil {
		return "", err
	}
	ch := make(chan *events.MediaRetry, 1)
	s.mu.Lock()
	if s.retries == nil {
		s.retries = map[string]chan *events.MediaRetry{}
	}
	s.retries[ref.MessageID] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.retries[ref.MessageID] == ch {
			delete(s.retries, ref.MessageID)
		}
		s.mu.Unlock()
	}()
	if err := send(ctx, info, ref.MediaKey); err != nil {
		return "", fmt.Errorf("whatsmeow: media retry: %w", err)
	}
	var evt *events.MediaRetry
	select {
	case evt = <-ch:
	case <-ctx.Done():
		return "", fmt.Errorf("whatsmeow: media retry: no answer from the phone: %w", ctx.Err())
	}
	notif, err := wa.DecryptMediaRetryNotification(evt, ref.MediaKey)
	if errors.Is(err, wa.ErrMediaNotAvailableOnPhone) {
		return "", fmt.Errorf("whatsmeow: media retry: %w", session.ErrMediaGone)
	}
	if err != nil {
		return "", fmt.Errorf("whatsmeow: media retry: %w", err)
	}
	switch notif.GetResult() {
	case waMmsRetry.MediaRetryNotification_SUCCESS:
		if notif.GetDirectPath() == "" {
			return "", errors.New("whatsmeow: media retry: the phone answered without a direct path")
		}
		return notif.GetDirectPath(), nil
	case waMmsRetry.MediaRetryNotification_NOT_FOUND:
		return "", fmt.Errorf("whatsmeow: media retry: %w", session.ErrMediaGone)
	}
	return "", fmt.Errorf("whatsmeow: media retry: the phone answered %s", notif.GetResult())
}

// onMediaRetry hands the phone's answer to the retry waiting for it.
func (s *Session) onMediaRetry(e *events.MediaRetry) {
	s.mu.Lock()
	ch := s.retries[e.MessageID]
	s.mu.Unlock()
	if ch == nil {
		s.log.Debug("media retry answer nobody waits for", "message", e.MessageID)
		return
	}
	select {
	case ch <- e:
	default:
	}
}

// retryInfo is the message a media retry receipt names.
func retryInfo(ref session.MediaRef) (*types.MessageInfo, error) {
	chat, err := types.ParseJID(ref.Chat)
	if err != nil || ref.MessageID == "" || len(ref.MediaKey) == 0 {
		return nil, fmt.Errorf("whatsmeow: media retry: %w: the message's id, chat and media key are required", session.ErrInvalid)
	}
	info := &types.MessageInfo{ID: ref.MessageID, MessageSource: types.MessageSource{Chat: chat, IsFromMe: ref.FromMe, IsGroup: ref.IsGroup}}
	if ref.Sender != "" {
		if info.Sender, err = types.ParseJID(ref.Sender); err != nil {
			return nil, fmt.Errorf("whatsmeow: media retry: %w: sender %q", session.ErrInvalid, ref.Sender)
		}
	}
	return info, nil
}
