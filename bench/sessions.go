package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/ops"
	"github.com/wagate/wagate/pkg/worker"
)

// envWorkerProcess makes the bench binary run as a worker process: the
// wiring of cmd/worker (app.Open, Deps.Worker, /metrics) plus
// GET /debug/memstats, which collects garbage first and then reports the
// live heap and the goroutines, so the cost of sessions is measured exactly
// and apart from the bench's own memory (and its embedded NATS).
const envWorkerProcess = "WAGATE_BENCH_WORKER_PROCESS"

// envWorkerAckWait overrides the worker's AckWait (default 30 s), which
// bounds how long commands a crashed worker held wait for redelivery.
const envWorkerAckWait = "WAGATE_BENCH_WORKER_ACK_WAIT"

type memStats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	HeapInuse  uint64 `json:"heap_inuse"`
	Sys        uint64 `json:"sys"`
	RSS        uint64 `json:"rss"`
	Goroutines int    `json:"goroutines"`
}

func runWorkerProcess() error {
	cfg, err := config.FromEnv(config.RoleWorker)
	if err != nil {
		return err
	}
	log := ops.Logger(cfg.LogLevel, cfg.LogFormat, nil).With("worker", cfg.WorkerID)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer deps.Close()
	var tune func(*worker.Config)
	if v := os.Getenv(envWorkerAckWait); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", envWorkerAckWait, err)
		}
		tune = func(c *worker.Config) { c.AckWait = d }
	}
	w, err := deps.Worker(ctx, tune)
	if err != nil {
		return err
	}
	mux := ops.Mux(append(deps.Checks(), ops.Check{Name: "worker", Fn: w.Ready})...)
	mux.HandleFunc("GET /debug/memstats", func(rw http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = json.NewEncoder(rw).Encode(memStats{HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse, Sys: m.Sys, RSS: selfRSS(), Goroutines: runtime.NumGoroutine()})
	})
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ops.Serve(ctx, srv) }()
	return w.Run(ctx)
}

// selfRSS is the resident set of this process, from /proc.
func selfRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// startSelfWorker runs this binary as a worker process (see envWorkerProcess).
func (f *fleet) startSelfWorker(_ context.Context, id string, extra ...map[string]string) (*proc, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	return f.spawn(exe, id, append([]map[string]string{{envWorkerProcess: "1"}}, extra...)...)
}

func readMemStats(ctx context.Context, base string) (memStats, error) {
	var m memStats
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/debug/memstats", nil)
	if err != nil {
		return m, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

// waitHTTP waits until the worker answers /readyz.
func waitReadyz(ctx context.Context, base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("worker at %s not ready after %s", base, timeout)
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return ctx.Err()
}

// settledStats reads the worker's memory once its goroutine count stops
// falling (timers of the last transitions done).
func settledStats(ctx context.Context, base string) (memStats, error) {
	prev, err := readMemStats(ctx, base)
	if err != nil {
		return prev, err
	}
	for range 20 {
		sleepCtx(ctx, 500*time.Millisecond)
		m, err := readMemStats(ctx, base)
		if err != nil {
			return m, err
		}
		if m.Goroutines >= prev.Goroutines && m.HeapAlloc >= prev.HeapAlloc*99/100 {
			return m, nil
		}
		prev = m
	}
	return prev, nil
}

// runSessions runs one worker process with many idle paired sessions and
// measures what each costs (live heap after a GC, goroutines, resident
// memory) over the same worker without sessions, then restarts the worker
// and measures how long it takes to resume them all.
func runSessions(ctx context.Context, r *runner, res *result) error {
	n := pick(r, 10000, 1000)
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	f, err := newFleet(ctx, r, e, 64, 15*time.Second)
	if err != nil {
		return err
	}
	p, base, err := f.startSelfWorker(ctx, "solo")
	if err != nil {
		return err
	}
	if err := waitReadyz(ctx, base, 60*time.Second); err != nil {
		return err
	}
	if err := f.waitBalanced(ctx, 60*time.Second, "solo"); err != nil {
		return err
	}
	sleepCtx(ctx, time.Second)
	before, err := settledStats(ctx, base)
	if err != nil {
		return err
	}
	r.progress("worker without sessions: %.1f MiB live heap, %d goroutines, %.1f MiB RSS; seeding %d paired channels",
		mib(before.HeapAlloc), before.Goroutines, mib(before.RSS), n)
	seeded := time.Now()
	chans, err := f.seedPaired(ctx, n, func(int) bool { return true })
	if err != nil {
		return err
	}
	if err := f.start(ctx, chans); err != nil {
		return err
	}
	startedAt := time.Now()
	if _, err := f.waitActive(ctx, chans, seeded, 10*time.Minute, "sessions starting"); err != nil {
		return err
	}
	firstStart := time.Since(startedAt)
	r.progress("%d sessions active (%.1f s from the start commands); letting them idle", n, firstStart.Seconds())
	sleepCtx(ctx, 3*time.Second)
	after, err := settledStats(ctx, base)
	if err != nil {
		return err
	}
	heapPer := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	rssPer := (float64(after.RSS) - float64(before.RSS)) / float64(n)
	gPer := float64(after.Goroutines-before.Goroutines) / float64(n)

	r.progress("restarting the worker (SIGTERM, then a new process) to resume %d sessions", n)
	p.stop()
	restart := time.Now()
	_, base2, err := f.startSelfWorker(ctx, "solo-2")
	if err != nil {
		return err
	}
	activeAt, err := f.waitActive(ctx, chans, restart, 10*time.Minute, "sessions resuming")
	if err != nil {
		return err
	}
	resume := activeAt.Sub(restart)
	resumed, _ := readMemStats(ctx, base2)

	res.add(fmt.Sprintf("live heap per idle session at %s sessions", num(float64(n))), round(heapPer/1024, 2), "KiB").atMost(20).
		note("worker heap %.1f → %.1f MiB after GC", mib(before.HeapAlloc), mib(after.HeapAlloc))
	res.add("resident memory per idle session", round(rssPer/1024, 2), "KiB").note("RSS %.1f → %.1f MiB", mib(before.RSS), mib(after.RSS))
	res.add("goroutines per idle session", round(gPer, 4), "").note("%d → %d goroutines", before.Goroutines, after.Goroutines)
	res.add(fmt.Sprintf("start-up: new worker process to all %s sessions active", num(float64(n))), round(resume.Seconds(), 1), "s").
		note("%.0f sessions/s; includes lease acquisition and the 2 s resume spread", float64(n)/resume.Seconds())
	res.add(fmt.Sprintf("first start of %s sessions (start commands)", num(float64(n))), round(firstStart.Seconds(), 1), "s")
	setDetail(res, "sessions", map[string]any{"sessions": n, "before": before, "after": after, "after_restart": resumed,
		"heap_per_session_bytes": heapPer, "rss_per_session_bytes": rssPer, "goroutines_per_session": gPer,
		"resume_seconds": resume.Seconds(), "first_start_seconds": firstStart.Seconds()})
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
