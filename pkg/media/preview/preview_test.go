package preview_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/media/preview"
	"github.com/wagate/wagate/pkg/media/preview/previewtest"
)

func TestThumbnailScalesTheLongerSideTo72Pixels(t *testing.T) {
	for _, tc := range []struct {
		name         string
		file         []byte
		w, h         int
		thumbW, thum int
	}{
		{"landscape JPEG", previewtest.JPEG(previewtest.Gradient(1280, 720)), 1280, 720, 72, 41},
		{"portrait PNG", previewtest.PNG(previewtest.Gradient(300, 600)), 300, 600, 36, 72},
		{"small image keeps its size", previewtest.PNG(previewtest.Gradient(40, 20)), 40, 20, 40, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := preview.Thumbnail(tc.file)
			require.NoError(t, err)
			require.Equal(t, tc.w, got.Width)
			require.Equal(t, tc.h, got.Height)
			thumb, err := jpeg.Decode(bytes.NewReader(got.JPEG))
			require.NoError(t, err, "the thumbnail is a JPEG")
			require.Equal(t, image.Rect(0, 0, tc.thumbW, tc.thum), thumb.Bounds())
			// The box filter keeps the picture: red on the left, blue on the right.
			lr, _, lb, _ := thumb.At(0, tc.thum/2).RGBA()
			rr, _, rb, _ := thumb.At(tc.thumbW-1, tc.thum/2).RGBA()
			require.Greater(t, lr, lb, "left edge red")
			require.Greater(t, rb, rr, "right edge blue")
		})
	}
}

func TestThumbnailRefusesWhatIsNotAnImage(t *testing.T) {
	_, err := preview.Thumbnail([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	require.True(t, errors.Is(err, preview.ErrNoImage), "%v", err)
}

func TestOggOpusSecondsFromTheLastGranuleMinusPreSkip(t *testing.T) {
	// 151 frames of 20 ms: 3.02 s, shown as 4 s (rounded up).
	sizes := make([]int, 151)
	for i := range sizes {
		sizes[i] = 40
	}
	v, err := preview.OggOpus(previewtest.VoiceNote(sizes))
	require.NoError(t, err)
	require.Equal(t, uint32(4), v.Seconds)
	require.Len(t, v.Waveform, preview.WaveformLen)
	for i, x := range v.Waveform {
		require.Equal(t, byte(100), x, "a constant bit rate gives a flat waveform (slice %d)", i)
	}

	exact := make([]int, 100) // exactly 2 s
	for i := range exact {
		exact[i] = 30
	}
	v, err = preview.OggOpus(previewtest.VoiceNote(exact))
	require.NoError(t, err)
	require.Equal(t, uint32(2), v.Seconds)
}

func TestOggOpusWaveformFollowsTheBitRate(t *testing.T) {
	// 64 s: silence (3-byte frames), speech (60 bytes), silence, speech at
	// half the rate, 16 s each; one slice is one second.
	var sizes []int
	for _, part := range []int{3, 60, 3, 30} {
		for range 16 * 50 {
			sizes = append(sizes, part)
		}
	}
	v, err := preview.OggOpus(previewtest.VoiceNote(sizes))
	require.NoError(t, err)
	require.Equal(t, uint32(64), v.Seconds)
	for i, x := range v.Waveform {
		want := map[int]byte{0: 5, 1: 100, 2: 5, 3: 50}[i/16]
		require.Equal(t, want, x, "slice %d", i)
	}
}

func TestOggOpusRefusesOtherFiles(t *testing.T) {
	vorbis := previewtest.VoiceNote([]int{10})
	copy(vorbis[28:], "OpusHEAD") // the first packet of the first page
	for name, data := range map[string][]byte{
		"empty":       nil,
		"WAV":         []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"not Opus":    vorbis,
		"no audio":    previewtest.VoiceNote(nil),
		"cut headers": previewtest.VoiceNote([]int{10, 10})[:40],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := preview.OggOpus(data)
			require.True(t, errors.Is(err, preview.ErrNotOpus), "%v", err)
		})
	}
}

func TestOfCompletesWhatTheSendGives(t *testing.T) {
	note := previewtest.VoiceNote(make([]int, 250)) // 5 s of 1-byte frames
	given := []byte{0xff, 0xd8, 0xff, 0xd9}
	wave := bytes.Repeat([]byte{7}, preview.WaveformLen)

	p, err := preview.Of("image", false, "image/png", previewtest.PNG(previewtest.Gradient(200, 100)), preview.Preview{})
	require.NoError(t, err)
	require.Equal(t, 200, p.Width)
	require.NotEmpty(t, p.Thumbnail)

	p, err = preview.Of("image", false, "image/png", previewtest.PNG(previewtest.Gradient(200, 100)), preview.Preview{Thumbnail: given})
	require.NoError(t, err)
	require.Equal(t, given, p.Thumbnail, "a given thumbnail wins")

	p, err = preview.Of("image", false, "image/webp", []byte("RIFF....WEBP"), preview.Preview{})
	require.NoError(t, err)
	require.Empty(t, p.Thumbnail, "no decoder, no thumbnail")

	p, err = preview.Of("video", false, "video/mp4", []byte("....ftypmp42"), preview.Preview{Seconds: 12, Thumbnail: given})
	require.NoError(t, err)
	require.Equal(t, preview.Preview{Seconds: 12, Thumbnail: given}, p)

	p, err = preview.Of("audio", true, "audio/ogg", note, preview.Preview{})
	require.NoError(t, err)
	require.Equal(t, uint32(5), p.Seconds)
	require.Len(t, p.Waveform, preview.WaveformLen)

	p, err = preview.Of("audio", true, "audio/ogg", note, preview.Preview{Seconds: 9, Waveform: wave})
	require.NoError(t, err)
	require.Equal(t, preview.Preview{Seconds: 9, Waveform: wave}, p, "given values win")

	p, err = preview.Of("audio", false, "audio/ogg", note, preview.Preview{})
	require.NoError(t, err)
	require.Equal(t, preview.Preview{Seconds: 5}, p, "an audio file has no waveform")

	p, err = preview.Of("audio", false, "audio/mpeg", []byte("ID3"), preview.Preview{})
	require.NoError(t, err)
	require.Equal(t, preview.Preview{}, p)

	_, err = preview.Of("audio", true, "audio/ogg", []byte("OggS but not really"), preview.Preview{})
	require.ErrorIs(t, err, preview.ErrNotOpus)
}
