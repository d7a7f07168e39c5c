package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
)

// runAsGateway makes the test binary run the gateway's main instead of
// the tests, so a test can signal a real gateway process.
const runAsGateway = "WAGATE_TEST_RUN_GATEWAY"

func TestMain(m *testing.M) {
	if os.Getenv(runAsGateway) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// syncBuffer collects a process's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var apiLine = regexp.MustCompile(`API:\s+(http://\S+)/v1`)

// A signal shuts the gateway down once, with a browser on SSE and one on
// WebSocket: both streams end, the worker hands its shards back and the
// process exits 0 without a panic (it used to close the relay's shutdown
// channel twice, because the signal and main both stopped the gateway).
func TestSignalShutsDownCleanlyWithStreamsOpen(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			rdb, prefix := testenv.Redis(t)
			const token = "test-admin-token-0123456789"
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(),
				runAsGateway+"=1",
				"WAGATE_DATABASE_URL="+testenv.DatabaseURL(t),
				"WAGATE_REDIS_URL="+testenv.RedisURL(),
				"WAGATE_REDIS_PREFIX="+prefix,
				"WAGATE_DATA_DIR="+t.TempDir(),
				"WAGATE_HTTP_ADDR=127.0.0.1:0",
				"WAGATE_NATS_LISTEN=",
				"WAGATE_DRIVER=sim",
				"WAGATE_SHARDS=4",
				"WAGATE_LEASE_TTL=2s",
				"WAGATE_ADMIN_TOKEN="+token,
				"WAGATE_LOG_LEVEL=info",
				"WAGATE_LOG_FORMAT=text",
			)
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
			})

			var base string
			testenv.Eventually(t, 60*time.Second, func() bool {
				if m := apiLine.FindStringSubmatch(stderr.String()); m != nil {
					base = m[1]
					return true
				}
				return false
			}, "the gateway to print its URL; stderr:\n%s", stderr.String())

			// The worker holds shards before it is asked to hand them off.
			keys := names.NewRedis(prefix)
			testenv.Eventually(t, 30*time.Second, func() bool {
				n, err := rdb.Exists(context.Background(), keys.ShardLease(0), keys.ShardLease(1), keys.ShardLease(2), keys.ShardLease(3)).Result()
				return err == nil && n == 4
			}, "the worker to lease every shard")

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			sse := bufio.NewScanner(resp.Body)
			for sse.Scan() && sse.Text() != "event: ready" {
			}
			require.NoError(t, sse.Err())

			ws, wresp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws",
				&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
			if wresp != nil && wresp.Body != nil {
				_ = wresp.Body.Close()
			}
			require.NoError(t, err)
			defer ws.CloseNow()
			_, ready, err := ws.Read(ctx)
			require.NoError(t, err)
			require.Contains(t, string(ready), `"kind":"ready"`)

			require.NoError(t, cmd.Process.Signal(sig))

			// Both streams end: the SSE body reaches its end and the
			// WebSocket is closed by the server.
			for sse.Scan() {
			}
			require.NoError(t, sse.Err(), "the SSE stream ends cleanly")
			for {
				if _, _, err = ws.Read(ctx); err != nil {
					break
				}
			}
			require.NotErrorIs(t, err, context.DeadlineExceeded, "the WebSocket is closed by the server")

			select {
			case err := <-exited:
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					t.Fatalf("gateway exited with %d; stderr:\n%s", exit.ExitCode(), stderr.String())
				}
				require.NoError(t, err)
			case <-ctx.Done():
				t.Fatalf("gateway did not exit; stderr:\n%s", stderr.String())
			}
			out := stderr.String()
			require.NotContains(t, out, "panic")
			require.Contains(t, out, "stopped")
			n, err := rdb.Exists(context.Background(), keys.ShardLease(0), keys.ShardLease(1), keys.ShardLease(2), keys.ShardLease(3)).Result()
			require.NoError(t, err)
			require.Zero(t, n, "the worker released its shard leases on the way out")
		})
	}
}
