package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/testenv"
)

// splitFleet runs cmd/api and cmd/worker as separate processes, the way
// the Kubernetes manifests do, against one NATS, Postgres and Redis.
type splitFleet struct {
	t       *testing.T
	bins    string
	natsURL string
	env     map[string]string
}

func newSplitFleet(t *testing.T) *splitFleet {
	t.Helper()
	bins := t.TempDir()
	for _, b := range []string{"api", "worker"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bins, b), "github.com/wagate/wagate/cmd/"+b).CombinedOutput()
		require.NoError(t, err, "go build ./cmd/%s: %s", b, out)
	}
	_, natsURL := testenv.NATS(t)
	_, prefix := testenv.Redis(t)
	return &splitFleet{t: t, bins: bins, natsURL: natsURL, env: map[string]string{
		"WAGATE_DATABASE_URL":      testenv.DatabaseURL(t),
		"WAGATE_REDIS_URL":         testenv.RedisURL(),
		"WAGATE_REDIS_PREFIX":      prefix,
		"WAGATE_NATS_URL":          natsURL,
		"WAGATE_DRIVER":            "sim",
		"WAGATE_SIM_TIME_SCALE":    "0.02",
		"WAGATE_SIM_QR_TIME_SCALE": "0.2",
		"WAGATE_SHARDS":            "4",
		"WAGATE_LEASE_TTL":         "5s",
		"WAGATE_ADMIN_TOKEN":       "test-admin-token-0123456789",
		"WAGATE_SECRET_KEY":        strings.Repeat("5a", 32),
		"WAGATE_LOG_LEVEL":         "info",
		"WAGATE_LOG_FORMAT":        "text",
	}}
}

// command is binary (with args) under the fleet's environment plus extra,
// its own role's NATS credential, and no WAGATE_ setting of the test run.
func (f *splitFleet) command(role natsauth.Role, extra map[string]string, binary string, args ...string) *exec.Cmd {
	f.t.Helper()
	cmd := exec.Command(filepath.Join(f.bins, binary), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	vars := map[string]string{"WAGATE_NATS_CREDS": testenv.NATSCreds(f.t, f.natsURL, role)}
	for _, m := range []map[string]string{f.env, extra} {
		for k, v := range m {
			vars[k] = v
		}
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// start runs a server binary until the test ends; its output is logged
// when the test fails.
func (f *splitFleet) start(role natsauth.Role, extra map[string]string, binary string) {
	f.t.Helper()
	var out bytes.Buffer
	cmd := f.command(role, extra, binary)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(f.t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	f.t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if f.t.Failed() {
			f.t.Logf("%s output:\n%s", binary, out.String())
		}
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// The Kubernetes shape: cmd/api and cmd/worker are separate processes that
// share media files only through the store of WAGATE_MEDIA_URL — here a
// real S3-compatible server. A worker stores what a phone sent and the api
// serves the same bytes; the api stores a base64 file and the worker sends
// it. Without WAGATE_MEDIA_URL the api and worker refuse to start and say
// why, while `api migrate` needs no media store.
func TestSplitAPIAndWorkerShareMediaThroughS3(t *testing.T) {
	t.Parallel()
	f := newSplitFleet(t)

	out, err := f.command(natsauth.RoleAPI, nil, "api", "migrate").CombinedOutput()
	require.NoError(t, err, "api migrate without a media store: %s", out)
	for _, b := range []struct {
		role   natsauth.Role
		binary string
	}{{natsauth.RoleAPI, "api"}, {natsauth.RoleWorker, "worker"}} {
		out, err := f.command(b.role, map[string]string{"WAGATE_HTTP_ADDR": freeAddr(t)}, b.binary).CombinedOutput()
		require.Error(t, err, "%s started without WAGATE_MEDIA_URL: %s", b.binary, out)
		require.Contains(t, string(out), "WAGATE_MEDIA_URL", b.binary)
		require.Contains(t, string(out), "s3://bucket/prefix", b.binary)
	}

	s3 := testenv.S3(t)
	f.env["WAGATE_MEDIA_URL"] = "s3://" + s3.Bucket + "/fleet"
	f.env["WAGATE_S3_ENDPOINT"] = "http://" + s3.Endpoint
	f.env["WAGATE_S3_ACCESS_KEY"] = s3.AccessKey
	f.env["WAGATE_S3_SECRET_KEY"] = s3.SecretKey
	apiAddr := freeAddr(t)
	f.start(natsauth.RoleAPI, map[string]string{"WAGATE_HTTP_ADDR": apiAddr}, "api")
	f.start(natsauth.RoleWorker, map[string]string{"WAGATE_HTTP_ADDR": freeAddr(t), "WAGATE_WORKER_ID": "split-worker"}, "worker")
	api := client{t: t, base: "http://" + apiAddr, token: f.env["WAGATE_ADMIN_TOKEN"]}
	testenv.Eventually(t, 60*time.Second, func() bool {
		resp, err := http.Get(api.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "the api is ready")
	ch := pairedChannel(t, api, nil)

	// Received: stored by the worker, served by the api.
	code, _ := api.do("POST", "/v1/sim/channels/"+ch+"/inbound", map[string]any{"id": "3AE2SPLIT", "from": "15550102030", "type": "image", "size": 300_000})
	require.Equal(t, http.StatusAccepted, code)
	id, m := inboundMedia(t, api, ch, "3AE2SPLIT", "stored")
	resp, file := api.fetch(m["url"].(string), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", file)
	require.Len(t, file, 300_000)
	require.Equal(t, m["sha256"], sha(file), "the api serves the bytes the worker stored")

	// Sent: stored by the api, sent by the worker.
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{R: uint8(x * 4), A: 255})
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	code, sent := api.do("POST", "/v1/channels/"+ch+"/messages", map[string]any{"to": "15550102030", "type": "image",
		"media": map[string]any{"base64": base64.StdEncoding.EncodeToString(buf.Bytes())}})
	require.Equal(t, http.StatusAccepted, code, "%v", sent)
	sentID := sent["id"].(string)
	var msg map[string]any
	testenv.Eventually(t, 30*time.Second, func() bool {
		_, msg = api.do("GET", "/v1/channels/"+ch+"/messages/"+sentID, nil)
		switch msg["status"] {
		case "sent", "delivered", "read":
			return true
		}
		return false
	}, "the worker sent the api's file (%v)", &msg)
	resp, file = api.fetch("/v1/channels/"+ch+"/messages/"+sentID+"/media", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", file)
	require.Equal(t, buf.Bytes(), file)

	// Both files are objects under the prefix of the one bucket.
	c, err := minio.New(s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, "")})
	require.NoError(t, err)
	var sizes []int64
	for o := range c.ListObjects(context.Background(), s3.Bucket, minio.ListObjectsOptions{Prefix: "fleet/", Recursive: true}) {
		require.NoError(t, o.Err)
		sizes = append(sizes, o.Size)
	}
	require.ElementsMatch(t, []int64{300_000, int64(buf.Len())}, sizes,
		"objects of %s and %s under s3://%s/fleet/ (%s)", id, sentID, s3.Bucket, strconv.Itoa(len(sizes)))
}
