package webhook_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/testenv"
)

// dispatcherProcess is cmd/dispatcher running as a child process.
type dispatcherProcess struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, once done is closed
}

// buildDispatcher compiles cmd/dispatcher into a temporary folder.
func buildDispatcher(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dispatcher")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/wagate/wagate/cmd/dispatcher")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/dispatcher: %s", out)
	return bin
}

func (b *bundle) startProcess(t *testing.T, bin, name string) *dispatcherProcess {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAGATE_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"WAGATE_DATABASE_URL="+b.dsn,
		"WAGATE_NATS_URL="+b.natsURL,
		"WAGATE_NATS_CREDS="+testenv.NATSCreds(t, b.natsURL, natsauth.RoleDispatcher),
		"WAGATE_SECRET_KEY="+b.secretKey,
		"WAGATE_NATS_PREFIX="+b.bus.Names.Prefix(),
		"WAGATE_REDIS_URL="+testenv.RedisURL(),
		"WAGATE_REDIS_PREFIX=wagate_test:"+testenv.Unique()+":",
		"WAGATE_HTTP_ADDR=127.0.0.1:0",
		"WAGATE_SHARDS=4",
		"WAGATE_EVENT_MAX_AGE=1h",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE=true",
		"WAGATE_WEBHOOK_SCHEDULE=50ms,100ms,200ms,400ms,800ms",
		"WAGATE_LOG_FORMAT=text",
		"WAGATE_LOG_LEVEL="+logLevel(),
	)
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	p := &dispatcherProcess{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() || os.Getenv("WAGATE_TEST_LOG") != "" {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, out)
		}
	})
	return p
}

func logLevel() string {
	if os.Getenv("WAGATE_TEST_LOG") != "" {
		return "debug"
	}
	return "info"
}

// addr waits for the process to log its listening address.
func (p *dispatcherProcess) addr(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`msg="dispatcher listening".* addr=(\S+)`)
	var addr string
	testenv.Eventually(t, 30*time.Second, func() bool {
		out, _ := os.ReadFile(p.log)
		if m := re.FindSubmatch(out); m != nil {
			addr = string(m[1])
		}
		return addr != ""
	}, "dispatcher listening")
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// Killing the dispatcher (SIGKILL, a real process) in the middle of
// deliveries loses nothing: after a new dispatcher starts, every event has
// reached every endpoint at least once. Then SIGTERM stops it cleanly.
func TestDispatcherKilledMidwayLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{allowPrivate: true})
	ch, _ := b.channel(t)
	slow := func(int, *http.Request) int {
		time.Sleep(20 * time.Millisecond)
		return http.StatusOK
	}
	flaky := func(n int, _ *http.Request) int {
		time.Sleep(5 * time.Millisecond)
		if n%7 == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	channelRC := newReceiver(t, slow)
	adminRC := newReceiver(t, flaky)
	channelEP := b.endpoint(t, ch, map[string]any{"url": channelRC.srv.URL})
	adminEP := b.endpoint(t, "", map[string]any{"url": adminRC.srv.URL, "events": []string{"message.*"}})

	bin := buildDispatcher(t)
	first := b.startProcess(t, bin, "dispatcher-1")
	const n = 300
	want := map[string]bool{}
	for range n {
		want[b.publish(t, ch, event.MessageReceived).ID] = true
	}
	testenv.Eventually(t, 60*time.Second, func() bool { return len(channelRC.delivered()) >= n/4 }, "first dispatcher delivering")
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.done
	atKill := map[string]int{"channel": len(channelRC.delivered()), "admin": len(adminRC.delivered())}
	require.Less(t, atKill["channel"], n, "killed before finishing: the test must kill mid-way")
	killedAt := time.Now()

	second := b.startProcess(t, bin, "dispatcher-2")
	for name, rc := range map[string]*receiver{"channel": channelRC, "admin": adminRC} {
		testenv.Eventually(t, 90*time.Second, func() bool {
			got := rc.delivered()
			for id := range want {
				if got[id] == 0 {
					return false
				}
			}
			return true
		}, "%s endpoint receives all %d events after the restart", name, n)
	}
	recovered := time.Since(killedAt)
	base := "http://" + second.addr(t)
	code, _ := httpGet(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	code, metrics := httpGet(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, m := range []string{"wagate_webhook_deliveries_total", "wagate_webhook_attempt_duration_seconds", "wagate_webhook_fanout_lag_seconds"} {
		require.Contains(t, metrics, m)
	}
	dup := func(rc *receiver) int {
		d := 0
		for _, c := range rc.delivered() {
			d += c - 1
		}
		return d
	}
	for _, r := range channelRC.requests() {
		verify(t, channelEP.Secret, r)
	}
	for _, r := range adminRC.requests() {
		verify(t, adminEP.Secret, r)
	}
	t.Logf("killed with %d/%d (channel) and %d/%d (admin) delivered; all delivered %s after the kill; duplicates: channel %d, admin %d",
		atKill["channel"], n, atKill["admin"], n, recovered.Round(100*time.Millisecond), dup(channelRC), dup(adminRC))

	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-second.done:
		require.NoError(t, second.err, "clean exit on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("dispatcher did not stop within 20s of SIGTERM")
	}
}
