package sim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/media/preview"
	"github.com/wagate/wagate/pkg/media/preview/previewtest"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
)

// The simulator describes a sent file as the whatsmeow driver does: the
// upload's keys, a JPEG thumbnail for images, seconds and a waveform for
// voice notes, the seconds and thumbnail given for videos; a file the
// driver refuses, it refuses with the same error.
func TestSentMediaCarriesThumbnailSecondsAndWaveform(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	s, _, _ := online(t, f, f.driver(t))
	send := func(id, typ string, body map[string]any) (session.SendResult, error) {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		return s.Send(ctx, session.Outbound{ID: id, To: "15550001111", Type: typ, Body: raw})
	}
	b64 := base64.StdEncoding.EncodeToString

	photo := previewtest.PNG(previewtest.Gradient(640, 480))
	res, err := send("msg_photo", "image", map[string]any{"media": map[string]any{"base64": b64(photo)}})
	require.NoError(t, err)
	require.NotNil(t, res.Media)
	require.Equal(t, "image", res.Media.Kind)
	require.Equal(t, "image/png", res.Media.MIME)
	require.EqualValues(t, len(photo), res.Media.FileLength)
	require.NotEmpty(t, res.Media.DirectPath)
	require.Len(t, res.Media.MediaKey, 32)
	require.Equal(t, res.WAID, res.Media.MessageID)
	thumb, err := jpeg.Decode(bytes.NewReader(res.Media.Thumbnail))
	require.NoError(t, err)
	require.Equal(t, preview.ThumbnailSide, thumb.Bounds().Dx())

	note := previewtest.VoiceNote(slices.Repeat([]int{2, 50}, 100)) // 4 s
	res, err = send("msg_note", "audio", map[string]any{"voice": true, "media": map[string]any{"base64": b64(note)}})
	require.NoError(t, err)
	require.Equal(t, "audio/ogg; codecs=opus", res.Media.MIME)
	require.Equal(t, uint32(4), res.Media.Seconds)
	require.Len(t, res.Media.Waveform, preview.WaveformLen)

	res, err = send("msg_clip", "video", map[string]any{"media": map[string]any{"base64": b64([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")), "seconds": 42}})
	require.NoError(t, err)
	require.Equal(t, uint32(42), res.Media.Seconds)
	require.Empty(t, res.Media.Thumbnail)

	_, err = send("msg_bad_note", "audio", map[string]any{"voice": true, "media": map[string]any{"base64": b64([]byte("OggS\x00\x02 not opus at all"))}})
	require.ErrorIs(t, err, session.ErrInvalidMedia)
	n, err := sim.Deliveries(ctx, f.rdb, f.keys, "msg_bad_note")
	require.NoError(t, err)
	require.Zero(t, n, "a refused file sends nothing")

	res, err = send("msg_text_only", "text", map[string]any{"text": "hi"})
	require.NoError(t, err)
	require.Nil(t, res.Media)
}
