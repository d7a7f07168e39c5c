package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/testenv"
)

// backends are the stores the contract runs against: a temporary folder
// and a real S3-compatible server (versitygw).
func backends(t *testing.T) map[string]func(t *testing.T) media.Store {
	return map[string]func(t *testing.T) media.Store{
		"local": func(t *testing.T) media.Store {
			s, err := media.NewLocal(t.TempDir())
			require.NoError(t, err)
			return s
		},
		"s3": func(t *testing.T) media.Store {
			srv := testenv.S3(t)
			s, err := media.NewS3(media.S3Config{Bucket: srv.Bucket, Prefix: "wagate/media", Endpoint: srv.Endpoint, Insecure: true,
				AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PartSize: 5 << 20})
			require.NoError(t, err)
			require.NoError(t, s.Check(context.Background()))
			return s
		},
	}
}

func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// onlyReader hides every method but Read, so a backend cannot seek or
// size the source: it must stream.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestStoreContract(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			ctx := context.Background()

			t.Run("a file put is read back whole and by ranges, with its digest and size", func(t *testing.T) {
				data := payload(300_000, 1)
				obj, err := s.Put(ctx, "ch_a/msg_1", onlyReader{bytes.NewReader(data)}, media.PutOptions{Size: int64(len(data)), ContentType: "image/png", SHA256: digest(data)})
				require.NoError(t, err)
				require.Equal(t, digest(data), obj.SHA256)
				require.EqualValues(t, len(data), obj.Size)

				st, err := s.Stat(ctx, "ch_a/msg_1")
				require.NoError(t, err)
				require.EqualValues(t, len(data), st.Size)

				f, err := s.Open(ctx, "ch_a/msg_1")
				require.NoError(t, err)
				got, err := io.ReadAll(f)
				require.NoError(t, err)
				require.Equal(t, digest(data), digest(got))
				_, err = f.Seek(250_000, io.SeekStart)
				require.NoError(t, err)
				part := make([]byte, 1000)
				_, err = io.ReadFull(f, part)
				require.NoError(t, err)
				require.Equal(t, data[250_000:251_000], part)
				end, err := f.Seek(0, io.SeekEnd)
				require.NoError(t, err)
				require.EqualValues(t, len(data), end)
				require.NoError(t, f.Close())
			})

			t.Run("a file of unknown length larger than one upload part streams through", func(t *testing.T) {
				data := payload(12<<20+123, 2)
				obj, err := s.Put(ctx, "ch_a/msg_big", onlyReader{bytes.NewReader(data)}, media.PutOptions{Size: -1, SHA256: digest(data)})
				require.NoError(t, err)
				require.EqualValues(t, len(data), obj.Size)
				f, err := s.Open(ctx, "ch_a/msg_big")
				require.NoError(t, err)
				defer f.Close()
				h := sha256.New()
				n, err := io.Copy(h, f)
				require.NoError(t, err)
				require.EqualValues(t, len(data), n)
				require.Equal(t, digest(data), hex.EncodeToString(h.Sum(nil)))
			})

			t.Run("a file with another digest than expected is refused and not stored", func(t *testing.T) {
				data := payload(5000, 3)
				_, err := s.Put(ctx, "ch_a/msg_bad", bytes.NewReader(data), media.PutOptions{Size: int64(len(data)), SHA256: digest([]byte("other"))})
				require.ErrorIs(t, err, media.ErrChecksum)
				_, err = s.Stat(ctx, "ch_a/msg_bad")
				require.ErrorIs(t, err, media.ErrNotFound)
			})

			t.Run("a missing file is ErrNotFound and deleting it is no error", func(t *testing.T) {
				_, err := s.Stat(ctx, "ch_a/msg_none")
				require.ErrorIs(t, err, media.ErrNotFound)
				_, err = s.Open(ctx, "ch_a/msg_none")
				require.ErrorIs(t, err, media.ErrNotFound)
				require.NoError(t, s.Delete(ctx, "ch_a/msg_none"))
			})

			t.Run("keys that climb out of the store are refused", func(t *testing.T) {
				for _, k := range []string{"", "/etc/passwd", "../x", "ch_a/../../x", "ch_a//x", `ch_a\x`} {
					_, err := s.Put(ctx, k, bytes.NewReader([]byte("x")), media.PutOptions{})
					require.ErrorIs(t, err, media.ErrInvalidKey, k)
				}
				require.ErrorIs(t, s.DeletePrefix(ctx, "/"), media.ErrInvalidKey)
			})

			t.Run("deleting a channel's prefix removes its files and no other channel's", func(t *testing.T) {
				for _, k := range []string{"ch_del/msg_1", "ch_del/msg_2", "ch_delx/msg_1", "ch_keep/msg_1"} {
					_, err := s.Put(ctx, k, bytes.NewReader([]byte(k)), media.PutOptions{})
					require.NoError(t, err)
				}
				require.NoError(t, s.DeletePrefix(ctx, media.ChannelPrefix("ch_del")))
				for k, want := range map[string]error{"ch_del/msg_1": media.ErrNotFound, "ch_del/msg_2": media.ErrNotFound, "ch_delx/msg_1": nil, "ch_keep/msg_1": nil} {
					_, err := s.Stat(ctx, k)
					if want == nil {
						require.NoError(t, err, k)
					} else {
						require.ErrorIs(t, err, want, k)
					}
				}
				require.NoError(t, s.Delete(ctx, "ch_keep/msg_1"))
				_, err := s.Stat(ctx, "ch_keep/msg_1")
				require.ErrorIs(t, err, media.ErrNotFound)
			})
		})
	}
}

func TestS3PresignedURLFetchesTheFileWithoutCredentials(t *testing.T) {
	srv := testenv.S3(t)
	s, err := media.NewS3(media.S3Config{Bucket: srv.Bucket, Endpoint: "http://" + srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	require.NoError(t, err)
	ctx := context.Background()
	data := payload(4096, 4)
	_, err = s.Put(ctx, "ch_p/msg_1", bytes.NewReader(data), media.PutOptions{Size: 4096, ContentType: "application/pdf"})
	require.NoError(t, err)
	u, err := s.Presign(ctx, "ch_p/msg_1", time.Minute, "report.pdf")
	require.NoError(t, err)
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, data, got)
}

func TestS3DownIsAnErrorOtherThanNotFoundAndRecovers(t *testing.T) {
	srv := testenv.S3(t)
	s, err := media.NewS3(media.S3Config{Bucket: srv.Bucket, Endpoint: srv.Endpoint, Insecure: true, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = s.Put(ctx, "ch_d/msg_1", bytes.NewReader([]byte("kept")), media.PutOptions{Size: 4})
	require.NoError(t, err)

	srv.Stop()
	_, err = s.Stat(ctx, "ch_d/msg_1")
	require.Error(t, err)
	require.False(t, errors.Is(err, media.ErrNotFound), "a storage outage must not read as a missing file: %v", err)
	_, err = s.Put(ctx, "ch_d/msg_2", bytes.NewReader([]byte("lost?")), media.PutOptions{Size: 5})
	require.Error(t, err)

	srv.Start()
	st, err := s.Stat(ctx, "ch_d/msg_1")
	require.NoError(t, err)
	require.EqualValues(t, 4, st.Size)
}

func TestOpenPicksTheBackendFromTheURL(t *testing.T) {
	dir := t.TempDir()
	s, err := media.Open(context.Background(), media.Config{DataDir: dir})
	require.NoError(t, err)
	require.Equal(t, dir+"/media", s.(*media.Local).Root())

	srv := testenv.S3(t)
	s, err = media.Open(context.Background(), media.Config{URL: "s3://" + srv.Bucket + "/pre", S3: media.S3Config{Endpoint: "http://" + srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
	require.NoError(t, err)
	require.IsType(t, &media.S3{}, s)

	_, err = media.Open(context.Background(), media.Config{URL: "s3://no-such-bucket", S3: media.S3Config{Endpoint: "http://" + srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
	require.ErrorContains(t, err, "no-such-bucket")
}
