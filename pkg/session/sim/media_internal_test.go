package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
)

func TestGeneratedMediaIsRealDeterministicAndHashed(t *testing.T) {
	for _, tc := range []struct {
		kind, mime string
		magic      []byte
	}{
		{"image", "image/png", []byte("\x89PNG\r\n")},
		{"audio", "audio/wav", []byte("RIFF")},
		{"document", "application/pdf", []byte("%PDF-")},
		{"video", "video/mp4", []byte("\x00\x00\x00\x18ftyp")},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			d1, ref1, err := simMedia(tc.kind, "3ASEED", 100_000, "", "")
			require.NoError(t, err)
			_, ref2, err := simMedia(tc.kind, "3ASEED", 100_000, "", "")
			require.NoError(t, err)
			require.Equal(t, ref1.FileSHA256, ref2.FileSHA256, "the same message makes the same bytes on every worker")
			_, other, err := simMedia(tc.kind, "3AOTHER", 100_000, "", "")
			require.NoError(t, err)
			require.NotEqual(t, ref1.FileSHA256, other.FileSHA256)

			data, err := io.ReadAll(mediaReader(tc.kind, "3ASEED", 100_000))
			require.NoError(t, err)
			require.Len(t, data, 100_000)
			require.True(t, bytes.HasPrefix(data, tc.magic), "%q", data[:12])
			sum := sha256.Sum256(data)
			require.Equal(t, hex.EncodeToString(sum[:]), d1.SHA256)
			require.Equal(t, tc.mime, d1.MIME)
			require.EqualValues(t, 100_000, ref1.FileLength)
			if tc.kind == "image" {
				img, err := png.Decode(bytes.NewReader(data))
				require.NoError(t, err, "a real PNG, whatever follows its end")
				require.Equal(t, 64, img.Bounds().Dx())
				require.NotEmpty(t, ref1.Thumbnail)
			}
		})
	}
	_, _, err := simMedia("hologram", "3A", 0, "", "")
	require.ErrorIs(t, err, session.ErrInvalid)
	_, ref, err := simMedia("document", "3ADOC", 0, "", "")
	require.NoError(t, err)
	require.Equal(t, "sim-3ADOC.pdf", ref.FileName)
	require.EqualValues(t, defaultMediaSize["document"], ref.FileLength)
}

func TestDirectPathsNameTheGeneratedFile(t *testing.T) {
	kind, seed, size, err := parseDirectPath("/sim/image/10/3A/r2")
	require.NoError(t, err)
	require.Equal(t, []any{"image", "3A", int64(10)}, []any{kind, seed, size})
	_, _, _, err = parseDirectPath("/v/t62/real")
	require.ErrorIs(t, err, session.ErrInvalid)
}
