package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// curlWrapper stands in for curl while the README runs: an HTTP error
// fails the command (so a route or body the README gets wrong fails the
// test), and a stream (-N) is read for a few seconds, as a reader who
// watches it and presses Ctrl-C.
const curlWrapper = `#!/usr/bin/env bash
fail=0 stream=0
for a in "$@"; do
  [[ $a == --fail || $a == --fail-with-body ]] && fail=1
  if [[ $a =~ ^-[a-zA-Z]+$ ]]; then
    [[ $a == *f* ]] && fail=1
    [[ $a == *N* ]] && stream=1
  fi
done
if (( stream )); then
  %[1]q --max-time 3 "$@"; rc=$?
  (( rc == 28 )) && exit 0
  exit $rc
fi
(( fail )) && exec %[1]q "$@"
exec %[1]q --fail-with-body "$@"
`

// quickStart returns the environment of the README's `make run` line and
// the shell blocks of its quick start that follow it, as one script.
func quickStart(t *testing.T, readme string) (env map[string]string, script string) {
	t.Helper()
	start := strings.Index(readme, "\n## Quick start")
	require.GreaterOrEqual(t, start, 0, "the README has a quick start")
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	require.GreaterOrEqual(t, len(blocks), 2, "the quick start has the make run line and the commands to try")
	run := strings.TrimSpace(blocks[0][1])
	require.True(t, strings.HasSuffix(run, "make run"), "the first block starts the gateway: %q", run)
	env = map[string]string{}
	for _, f := range strings.Fields(strings.TrimSuffix(run, "make run")) {
		k, v, ok := strings.Cut(f, "=")
		require.True(t, ok, "the make run line sets variables only: %q", f)
		env[k] = v
	}
	var b strings.Builder
	for _, blk := range blocks[1:] {
		b.WriteString(blk[1])
		b.WriteString("\n")
	}
	return env, b.String()
}

// TestReadmeQuickStartRuns runs the README's quick start as written,
// offline: the gateway of its `make run` line (in-process, with this
// test's Postgres and Redis), then every shell block of the section in one
// bash, with curl failing on HTTP errors. The receiver of the webhook step
// is built and run by `go run` as the README says, and must print the
// verified event.
func TestReadmeQuickStartRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole quick start (about a minute)")
	}
	for _, tool := range []string{"bash", "curl", "go"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the quick start needs %s", tool)
	}
	realCurl, _ := exec.LookPath("curl")
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	runEnv, script := quickStart(t, string(readme))

	env := gatewayEnv(t)
	delete(env, "WAGATE_SIM_TIME_SCALE") // the README runs at the simulator's real pace
	// The example receiver may still be compiling when the ping is sent;
	// with the default schedule a second refused attempt waits 5 minutes,
	// longer than this test waits for the receiver to print it.
	env["WAGATE_WEBHOOK_SCHEDULE"] = "1s,2s,4s,8s,15s,30s,60s"
	for k, v := range runEnv {
		env[k] = v
	}
	g := startGateway(t, env)
	t.Cleanup(g.Stop)

	// Where the README says localhost:8080 and 127.0.0.1:9000 (the
	// receiver), this test's gateway and a free port; its files go to a
	// directory of the test, and the receiver is built from this checkout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	receiver := ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	host := strings.TrimPrefix(g.URL(), "http://")
	script = strings.NewReplacer(
		"localhost:8080", host,
		"127.0.0.1:9000", receiver,
		"/tmp/", dir+"/",
		"go run ./", "go run -C "+root+" ./",
	).Replace(script)
	require.Contains(t, script, "go run -C", "the quick start runs the example receiver")

	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "curl"), fmt.Appendf(nil, curlWrapper, realCurl), 0o755))
	out, err := os.Create(filepath.Join(dir, "output"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = out.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = out, out
	// The receiver stays in the background: the whole process group goes
	// when the test ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	output := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	require.NoError(t, cmd.Wait(), "the quick start failed; its output:\n%s", output())

	// What the reader is told to expect.
	got := output()
	require.Contains(t, got, `"exists":false`, "the number check answers for 15550100000")
	require.Regexp(t, `200 image/png \d+\n`, got, "the received photo is downloaded")
	png, err := os.ReadFile(filepath.Join(dir, "photo.png"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "photo.png is a PNG")
	qr, err := os.ReadFile(filepath.Join(dir, "qr.png"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(qr, []byte("\x89PNG\r\n\x1a\n")), "qr.png is a PNG")
	// The receiver may still be compiling when the script ends: its
	// deliveries are retried until it answers.
	printed := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d seq=\d+ message\.received ch_\S+ evt_\S+ .*"text":"ping"`)
	deadline := time.Now().Add(3 * time.Minute)
	for !printed.MatchString(output()) {
		if time.Now().After(deadline) {
			t.Fatalf("the example receiver did not print the verified ping; output:\n%s", output())
		}
		time.Sleep(500 * time.Millisecond)
	}
}
