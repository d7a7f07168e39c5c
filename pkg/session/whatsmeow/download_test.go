package whatsmeow

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
)

func TestReceivedMediaKeepsTheKeysItIsDownloadedWith(t *testing.T) {
	key, enc, sum := []byte("0123456789abcdef0123456789abcdef"), []byte("enc-sha"), []byte("file-sha")
	for _, tc := range []struct {
		name string
		msg  *waE2E.Message
		kind string
		file string
	}{
		{"image with its thumbnail", &waE2E.Message{ImageMessage: &waE2E.ImageMessage{DirectPath: proto.String("/v/t62/img"), MediaKey: key,
			FileEncSHA256: enc, FileSHA256: sum, FileLength: proto.Uint64(1234), Mimetype: proto.String("image/jpeg"), JPEGThumbnail: []byte{0xff, 0xd8}}}, "image", ""},
		{"document with its name", &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{DirectPath: proto.String("/v/t62/doc"), MediaKey: key,
			FileEncSHA256: enc, FileSHA256: sum, FileLength: proto.Uint64(99), Mimetype: proto.String("application/pdf"), FileName: proto.String("a.pdf")}}, "document", "a.pdf"},
		{"voice note", &waE2E.Message{AudioMessage: &waE2E.AudioMessage{DirectPath: proto.String("/v/t62/ptt"), MediaKey: key,
			FileEncSHA256: enc, FileSHA256: sum, FileLength: proto.Uint64(5), Mimetype: proto.String("audio/ogg; codecs=opus"), PTT: proto.Bool(true)}}, "audio", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evt := &events.Message{Info: info(group, "3AMEDIA1"), Message: tc.msg}
			in, _ := inboundOf(t, evt, "message.received")
			require.NotNil(t, in.Media)
			ref := in.Media
			require.Equal(t, tc.kind, ref.Kind)
			require.Equal(t, key, ref.MediaKey)
			require.Equal(t, enc, ref.FileEncSHA256)
			require.Equal(t, sum, ref.FileSHA256)
			require.NotEmpty(t, ref.DirectPath)
			require.Equal(t, tc.file, ref.FileName)
			require.Equal(t, "3AMEDIA1", ref.MessageID)
			require.Equal(t, group.String(), ref.Chat)
			require.Equal(t, aliceAD.String(), ref.Sender)
			require.True(t, ref.IsGroup)
		})
	}
	t.Run("text has no media", func(t *testing.T) {
		in, _ := inboundOf(t, msgEvent(alice, &waE2E.Message{Conversation: proto.String("hi")}), "message.received")
		require.Nil(t, in.Media)
	})
}

func TestExpiredDirectPathsAreMediaExpired(t *testing.T) {
	for _, err := range []error{wa.ErrMediaDownloadFailedWith403, wa.ErrMediaDownloadFailedWith404, wa.ErrMediaDownloadFailedWith410} {
		require.ErrorIs(t, downloadError(err), session.ErrMediaExpired)
	}
	require.NotErrorIs(t, downloadError(wa.DownloadHTTPError{Response: &http.Response{StatusCode: 502}}), session.ErrMediaExpired)
	require.NotErrorIs(t, downloadError(wa.ErrInvalidMediaSHA256), session.ErrMediaExpired)
}

// retryAnswer builds the events.MediaRetry whatsmeow emits for the phone's
// answer: the notification encrypted with the media retry key, the
// message id as additional data (mediaretry.go).
func retryAnswer(t *testing.T, id string, mediaKey []byte, notif *waMmsRetry.MediaRetryNotification) *events.MediaRetry {
	plain, err := proto.Marshal(notif)
	require.NoError(t, err)
	iv := make([]byte, 12)
	_, _ = rand.Read(iv)
	ct, err := gcmutil.Encrypt(hkdfutil.SHA256(mediaKey, nil, []byte("WhatsApp Media Retry Notification"), 32), iv, plain, []byte(id))
	require.NoError(t, err)
	return &events.MediaRetry{Ciphertext: ct, IV: iv, MessageID: id, ChatID: alice, Timestamp: now}
}

func TestMediaRetryWaitsForThePhonesAnswer(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	ref := session.MediaRef{Kind: "image", DirectPath: "/old", MediaKey: key, MessageID: "3ARETRY", Chat: alice.String(), Sender: aliceAD.String()}
	s := &Session{channelID: "ch_test", log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name   string
		answer func() *events.MediaRetry
		path   string
		err    error
	}{
		{"success carries the new direct path", func() *events.MediaRetry {
			return retryAnswer(t, ref.MessageID, key, &waMmsRetry.MediaRetryNotification{StanzaID: proto.String(ref.MessageID),
				DirectPath: proto.String("/v/t62/new"), Result: waMmsRetry.MediaRetryNotification_SUCCESS.Enum()})
		}, "/v/t62/new", nil},
		{"not found on the phone is gone", func() *events.MediaRetry {
			return retryAnswer(t, ref.MessageID, key, &waMmsRetry.MediaRetryNotification{StanzaID: proto.String(ref.MessageID),
				Result: waMmsRetry.MediaRetryNotification_NOT_FOUND.Enum()})
		}, "", session.ErrMediaGone},
		{"the unencrypted error code 2 is gone", func() *events.MediaRetry {
			return &events.MediaRetry{MessageID: ref.MessageID, Error: &events.MediaRetryError{Code: 2}}
		}, "", session.ErrMediaGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sentFor *types.MessageInfo
			path, err := s.retryMedia(ctx, ref, func(_ context.Context, info *types.MessageInfo, mk []byte) error {
				sentFor = info
				require.Equal(t, key, mk)
				go func() {
					time.Sleep(10 * time.Millisecond)
					s.onMediaRetry(&events.MediaRetry{MessageID: "3AOTHER"}) // another message's answer is not ours
					s.onMediaRetry(tc.answer())
				}()
				return nil
			})
			require.Equal(t, "3ARETRY", sentFor.ID)
			require.Equal(t, alice, sentFor.Chat)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.path, path)
		})
	}

	t.Run("no answer ends with the context", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := s.retryMedia(short, ref, func(context.Context, *types.MessageInfo, []byte) error { return nil })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Empty(t, s.retries)
	})
}
