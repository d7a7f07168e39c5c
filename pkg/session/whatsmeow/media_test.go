package whatsmeow

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/ssrf"
)

func TestFetchLimitsSizeAndTime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big": // declared too big
			w.Header().Set("Content-Length", "2048")
			_, _ = w.Write(make([]byte, 2048))
		case "/stream": // too big, undeclared
			w.Header().Set("Content-Type", "image/png")
			fl := w.(http.Flusher)
			for range 4 {
				_, _ = w.Write(make([]byte, 512))
				fl.Flush()
			}
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/gone":
			http.Error(w, "gone", http.StatusNotFound)
		case "/busy":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/typed":
			w.Header().Set("Content-Type", "image/jpeg; charset=binary")
			_, _ = w.Write([]byte("not really a jpeg"))
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	f := &fetcher{client: newFetchClient(time.Second, true), max: 1024, timeout: 300 * time.Millisecond}
	ctx := context.Background()

	_, _, err := f.load(ctx, &Media{URL: srv.URL + "/big"})
	require.ErrorIs(t, err, session.ErrInvalid, "declared size over the limit")
	_, _, err = f.load(ctx, &Media{URL: srv.URL + "/stream"})
	require.ErrorIs(t, err, session.ErrInvalid, "streamed size over the limit")
	_, _, err = f.load(ctx, &Media{URL: srv.URL + "/gone"})
	require.ErrorIs(t, err, session.ErrInvalid, "4xx: the URL is wrong, retrying cannot help")

	_, _, err = f.load(ctx, &Media{URL: srv.URL + "/busy"})
	require.Error(t, err)
	require.NotErrorIs(t, err, session.ErrInvalid, "5xx: worth a retry")

	start := time.Now()
	_, _, err = f.load(ctx, &Media{URL: srv.URL + "/slow"})
	require.Error(t, err)
	require.NotErrorIs(t, err, session.ErrInvalid)
	require.Less(t, time.Since(start), 2*time.Second, "bounded by the fetch timeout")

	data, mt, err := f.load(ctx, &Media{URL: srv.URL + "/typed"})
	require.NoError(t, err)
	require.Equal(t, "image/jpeg", mt, "the source's declared type, without parameters")
	require.Equal(t, "not really a jpeg", string(data))

	_, mt, err = f.load(ctx, &Media{URL: srv.URL + "/typed", MIME: "image/png"})
	require.NoError(t, err)
	require.Equal(t, "image/png", mt, "the command's declared type wins")
}

func TestFetchRefusesInternalAddressesByDefault(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(pdf) }))
	t.Cleanup(srv.Close)
	f := &fetcher{client: newFetchClient(time.Second, false), max: 1024, timeout: time.Second}
	_, _, err := f.load(context.Background(), &Media{URL: srv.URL + "/a.pdf"})
	require.ErrorIs(t, err, session.ErrInvalid)
	require.ErrorIs(t, err, ssrf.ErrRefused, "media URLs are guarded by pkg/ssrf, like webhooks")

	guard := ssrf.Guard{}
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2a03:2880:f12f:83:face:b00c::25de": true,
		"127.0.0.1": false, "10.1.2.3": false, "192.168.0.1": false, "172.16.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "::1": false, "fd00::1": false, "fe80::1": false, "0.0.0.0": false, "::ffff:127.0.0.1": false,
	} {
		require.Equal(t, public, guard.Control("tcp", net.JoinHostPort(addr, "443"), nil) == nil, addr)
	}
}

func TestDecodeBase64(t *testing.T) {
	t.Parallel()
	f := &fetcher{max: 16}
	for name, in := range map[string]string{
		"standard":           "aGVsbG8gd29ybGQ=",
		"without padding":    "aGVsbG8gd29ybGQ",
		"URL-safe":           "aGVsbG8gd29ybGQ=",
		"wrapped in lines":   "aGVsbG8g\nd29ybGQ=",
		"data URI with type": "data:text/plain;base64,aGVsbG8gd29ybGQ=",
	} {
		data, _, err := f.decode(in)
		require.NoError(t, err, name)
		require.Equal(t, "hello world", string(data), name)
	}
	_, declared, err := f.decode("data:image/webp;base64," + b64(webp[:8]))
	require.NoError(t, err)
	require.Equal(t, "image/webp", declared)

	_, _, err = f.decode(strings.Repeat("A", 40))
	require.ErrorIs(t, err, session.ErrInvalid, "over the limit before decoding")
	_, _, err = f.decode("data:image/png,rawbytes")
	require.ErrorIs(t, err, session.ErrInvalid, "data URI without base64")
}

func TestMediaType(t *testing.T) {
	t.Parallel()
	require.Equal(t, "application/pdf", mediaType("", "", pdf, ""), "sniffed")
	require.Equal(t, "audio/ogg", mediaType("", "", ogg, ""), "OGG is audio")
	require.Equal(t, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		mediaType("", "application/octet-stream", []byte("PK\x03\x04rest of a zip"), "letter.docx"), "generic bytes named by their extension")
	require.Equal(t, "image/gif", mediaType("image/gif", "image/png", pdf, ""), "declared by the command")
}
