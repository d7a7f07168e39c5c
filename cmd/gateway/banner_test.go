package main

import (
	"context"
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

	"github.com/wagate/wagate/pkg/testenv"
)

var tokenLine = regexp.MustCompile(`admin token: (.*)`)

// startBanner runs the gateway with env until it prints its banner and
// returns the API's base URL, the banner's admin-token line and a stop
// that ends the process with SIGTERM (also called when the test ends).
func startBanner(t *testing.T, env ...string) (base, token string, stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, runAsGateway+"=1"), env...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	testenv.Eventually(t, 60*time.Second, func() bool {
		out := stderr.String()
		if m, tl := apiLine.FindStringSubmatch(out), tokenLine.FindStringSubmatch(out); m != nil && tl != nil {
			base, token = m[1], strings.TrimSpace(tl[1])
			return true
		}
		return false
	}, "the banner; stderr:\n%s", stderr.String())
	return base, token, stop
}

func channelsAnswer(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/v1/channels", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// `make run` prints the admin token once: on the start that generated it,
// with the file that keeps it. Later starts name the file and never print
// the token again (terminal scrollback and collected logs keep what is
// printed); a token from WAGATE_ADMIN_TOKEN is named by its variable.
func TestBannerPrintsTheAdminTokenOnlyWhenGenerated(t *testing.T) {
	_, prefix := testenv.Redis(t)
	dataDir := t.TempDir()
	env := []string{
		"WAGATE_DATABASE_URL=" + testenv.DatabaseURL(t),
		"WAGATE_REDIS_URL=" + testenv.RedisURL(),
		"WAGATE_REDIS_PREFIX=" + prefix,
		"WAGATE_DATA_DIR=" + dataDir,
		"WAGATE_HTTP_ADDR=127.0.0.1:0",
		"WAGATE_NATS_LISTEN=",
		"WAGATE_DRIVER=sim",
		"WAGATE_SHARDS=4",
		"WAGATE_LEASE_TTL=2s",
		"WAGATE_LOG_LEVEL=warn",
		"WAGATE_LOG_FORMAT=text",
	}
	file := filepath.Join(dataDir, "admin-token")

	base, line, stop := startBanner(t, env...)
	generated, where, ok := strings.Cut(line, "  (generated now and stored in ")
	require.True(t, ok, "the first start says the token was generated: %q", line)
	require.Equal(t, file+")", where)
	stored, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, generated, strings.TrimSpace(string(stored)), "the printed token is the stored one")
	require.Equal(t, http.StatusOK, channelsAnswer(t, base, generated))
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only its owner reads the token")

	stop()

	// The same folder again, by a new process.
	base, line, stop = startBanner(t, env...)
	require.Equal(t, "as set in "+file, line)
	require.NotContains(t, line, generated)
	require.Equal(t, http.StatusOK, channelsAnswer(t, base, generated), "the stored token still signs in")
	stop()

	const fromEnv = "banner-test-admin-token-0123456789"
	base, line, _ = startBanner(t, append(env, "WAGATE_ADMIN_TOKEN="+fromEnv)...)
	require.Equal(t, "as set in WAGATE_ADMIN_TOKEN", line)
	require.Equal(t, http.StatusOK, channelsAnswer(t, base, fromEnv))
}
