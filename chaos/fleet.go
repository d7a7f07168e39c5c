package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wagate/wagate/pkg/natsauth"
)

// adminToken is the fleet's admin token.
const adminToken = "chaos-admin-token-0123456789"

// fleet is cmd/api, two cmd/worker and cmd/dispatcher as child processes.
type fleet struct {
	in         *infra
	o          options
	api        *service
	workers    []*service
	dispatcher *service
	apiURL     string
}

// fleetBinaries are the binaries the suite builds into bin/chaos.
var fleetBinaries = []string{"api", "worker", "dispatcher"}

func buildFleet(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, "bin", "chaos")
	for _, b := range fleetBinaries {
		progress("go build ./cmd/%s", b)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(out, b), "./cmd/"+b)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go build ./cmd/%s: %w", b, err)
		}
	}
	return out, nil
}

func startFleet(ctx context.Context, in *infra, o options, binDir string) (*fleet, error) {
	f := &fleet{in: in, o: o}
	logDir := filepath.Join(in.dir, "logs")
	// One key for every process: the api seals webhook secrets that the
	// dispatcher opens. One media folder too: the api serves what a worker
	// stored.
	common := []string{
		"WAGATE_MEDIA_URL=" + filepath.Join(in.dir, "media"),
		"WAGATE_SECRET_KEY=" + in.secretKey,
		"WAGATE_DATABASE_URL=" + in.databaseURL(),
		"WAGATE_REDIS_URL=" + in.redisURL(),
		"WAGATE_REDIS_PREFIX=wagate_chaos:",
		"WAGATE_ADMIN_TOKEN=" + adminToken,
		"WAGATE_DRIVER=sim",
		"WAGATE_SIM_TIME_SCALE=" + strconv.FormatFloat(o.simScale, 'f', -1, 64),
		"WAGATE_LEASE_TTL=" + o.leaseTTL.String(),
		"WAGATE_SEND_RATE=0",
		"WAGATE_WARMUP_DAYS=0",
		"WAGATE_WEBHOOK_ALLOW_PRIVATE=true",
		"WAGATE_LOG_LEVEL=info",
		"WAGATE_LOG_FORMAT=text",
	}
	mk := func(name, bin string, supervise bool) (*service, string, error) {
		port, err := freePort()
		if err != nil {
			return nil, "", err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		s := &service{name: name, logDir: logDir, supervise: supervise, ready: httpReady("http://" + addr + "/readyz"),
			command: func(n int) ([]string, []string) {
				env := append([]string{"WAGATE_HTTP_ADDR=" + addr, "WAGATE_DATA_DIR=" + filepath.Join(in.dir, "data-"+name)}, common...)
				// Each binary connects with the credential of its role:
				// the fleet runs under NATS authentication as in production.
				env = append(env, in.natsEnv(natsauth.Role(bin))...)
				if bin == "worker" {
					// One id per process, as a fleet restarting a worker
					// would have (the default will be unique per process).
					env = append(env, fmt.Sprintf("WAGATE_WORKER_ID=chaos-%s-%d", name, n))
				}
				return []string{filepath.Join(binDir, bin)}, env
			}}
		return s, "http://" + addr, nil
	}
	var err error
	if f.api, f.apiURL, err = mk("api", "api", true); err != nil {
		return nil, err
	}
	progress("starting cmd/api (migrations, streams)")
	if err := f.api.start(ctx); err != nil {
		return nil, err
	}
	for _, name := range []string{"worker-a", "worker-b"} {
		w, _, err := mk(name, "worker", true)
		if err != nil {
			return nil, err
		}
		f.workers = append(f.workers, w)
	}
	if f.dispatcher, _, err = mk("dispatcher", "dispatcher", true); err != nil {
		return nil, err
	}
	progress("starting two cmd/worker and cmd/dispatcher")
	for _, s := range append([]*service{f.dispatcher}, f.workers...) {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// services lists every binary of the fleet.
func (f *fleet) services() []*service {
	return append([]*service{f.api, f.dispatcher}, f.workers...)
}

// stop ends the fleet gracefully.
func (f *fleet) stop() {
	for _, s := range f.services() {
		if s != nil {
			s.stop(15 * time.Second)
		}
	}
}

// crashes sums the exits nobody caused.
func (f *fleet) crashes() map[string]int {
	out := map[string]int{}
	for _, s := range f.services() {
		out[s.name] = s.crashCount()
	}
	return out
}
