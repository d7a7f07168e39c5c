package whatsmeow

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/media/preview"
	"github.com/wagate/wagate/pkg/media/preview/previewtest"
	"github.com/wagate/wagate/pkg/session"
)

// Outgoing media carry what phones show before fetching the file (issue 16
// point 7): images a JPEG thumbnail, voice notes seconds and a waveform,
// videos what the send gives.

func TestSentImageGetsAJPEGThumbnail(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	photo := previewtest.JPEG(previewtest.Gradient(800, 600))
	im := build(t, bd, alice, SendBody{Type: "image", Media: &Media{Base64: b64(photo)}}).GetImageMessage()
	require.Equal(t, uint32(800), im.GetWidth())
	require.Equal(t, uint32(600), im.GetHeight())
	thumb, err := jpeg.Decode(bytes.NewReader(im.GetJPEGThumbnail()))
	require.NoError(t, err, "JPEGThumbnail is a JPEG")
	require.Equal(t, image.Rect(0, 0, preview.ThumbnailSide, 54), thumb.Bounds(), "72 px on the long side")

	given := previewtest.JPEG(previewtest.Gradient(10, 10))
	im = build(t, bd, alice, SendBody{Type: "image", Media: &Media{Base64: b64(photo), Thumbnail: b64(given)}}).GetImageMessage()
	require.Equal(t, given, im.GetJPEGThumbnail(), "a thumbnail the send gives wins")

	st := build(t, bd, alice, SendBody{Type: "sticker", Media: &Media{Base64: b64(webp)}}).GetStickerMessage()
	require.Empty(t, st.GetPngThumbnail(), "stickers show themselves")
}

func TestSentVoiceNoteGetsSecondsAndWaveform(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	au := build(t, bd, alice, SendBody{Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote)}}).GetAudioMessage()
	require.True(t, au.GetPTT())
	require.Equal(t, uint32(2), au.GetSeconds(), "2 s of Opus frames")
	require.Len(t, au.GetWaveform(), 64)
	for _, v := range au.GetWaveform() {
		require.LessOrEqual(t, v, byte(100))
	}

	wave := slices.Repeat([]int{10, 90}, 32)
	au = build(t, bd, alice, SendBody{Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote), Seconds: 7, Waveform: wave}}).GetAudioMessage()
	require.Equal(t, uint32(7), au.GetSeconds(), "given seconds win")
	require.Equal(t, byte(90), au.GetWaveform()[1], "a given waveform wins")

	mp3Note := build(t, bd, alice, SendBody{Type: "audio", Media: &Media{Base64: b64(mp3), Seconds: 31}}).GetAudioMessage()
	require.Equal(t, uint32(31), mp3Note.GetSeconds())
	require.Nil(t, mp3Note.Waveform, "only voice notes have a waveform")
}

func TestSentVideoCarriesTheSecondsAndThumbnailGiven(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	v := build(t, bd, alice, SendBody{Type: "video", Media: &Media{Base64: b64(mp4)}}).GetVideoMessage()
	require.Nil(t, v.Seconds, "no video decoder: nothing invented")
	require.Nil(t, v.JPEGThumbnail)

	thumb := previewtest.JPEG(previewtest.Gradient(72, 40))
	v = build(t, bd, alice, SendBody{Type: "video", Media: &Media{Base64: b64(mp4), Seconds: 95, Thumbnail: b64(thumb)}}).GetVideoMessage()
	require.Equal(t, uint32(95), v.GetSeconds())
	require.Equal(t, thumb, v.GetJPEGThumbnail())
}

func TestSentPreviewsThatCannotBeAreInvalidMedia(t *testing.T) {
	t.Parallel()
	bd, up := testBuilder(t)
	for name, b := range map[string]SendBody{
		"a voice note that is not Opus": {Type: "audio", Voice: true, Media: &Media{Base64: b64(ogg)}},
		"a short waveform":              {Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote), Waveform: []int{1, 2}}},
		"a waveform value above 100":    {Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote), Waveform: slices.Repeat([]int{101}, 64)}},
		"a waveform on a plain audio":   {Type: "audio", Media: &Media{Base64: b64(mp3), Waveform: slices.Repeat([]int{1}, 64)}},
		"a thumbnail that is not JPEG":  {Type: "image", Media: &Media{Base64: b64(pngImage(t, 3, 2)), Thumbnail: b64(pngImage(t, 3, 2))}},
		"a document with seconds":       {Type: "document", Media: &Media{Base64: b64(pdf), Seconds: 3}},
	} {
		_, err := bd.build(context.Background(), alice, b)
		require.ErrorIs(t, err, session.ErrInvalidMedia, name)
	}
	require.Empty(t, up.kinds, "nothing uploaded for a message that cannot be sent")
}

// The keys of a sent file are what the driver reports (SendResult.Media),
// read from the message as it went out: the upload's keys and the preview.
func TestSentMediaReportsItsKeys(t *testing.T) {
	t.Parallel()
	bd, _ := testBuilder(t)
	msg := build(t, bd, alice, SendBody{Type: "audio", Voice: true, Media: &Media{Base64: b64(voiceNote)}})
	ref := mediaRef(msg, &types.MessageInfo{ID: "3EB0AA", MessageSource: types.MessageSource{Chat: alice, Sender: me, IsFromMe: true}})
	require.NotNil(t, ref)
	require.Equal(t, session.MediaRef{
		Kind: "audio", DirectPath: "/v/t62/x.enc", MediaKey: []byte("key"), FileEncSHA256: []byte("enc"), FileSHA256: []byte("sha"),
		FileLength: int64(len(voiceNote)), MIME: voiceMIME, Seconds: 2, Waveform: msg.GetAudioMessage().GetWaveform(),
		MessageID: "3EB0AA", Chat: alice.String(), Sender: me.String(), FromMe: true,
	}, *ref)

	img := build(t, bd, alice, SendBody{Type: "image", Media: &Media{Base64: b64(previewtest.PNG(previewtest.Gradient(100, 100)))}})
	ref = mediaRef(img, &types.MessageInfo{ID: "3EB0AB"})
	require.Equal(t, img.GetImageMessage().GetJPEGThumbnail(), ref.Thumbnail)
	require.NotEmpty(t, ref.Thumbnail)

	require.Nil(t, mediaRef(&waE2E.Message{Conversation: ptr("hi")}, &types.MessageInfo{}))
}

func ptr[T any](v T) *T { return &v }
