// Command bench measures wagate on the simulator driver with real
// Postgres, Redis and NATS JetStream (embedded), against raw baselines
// taken in the same run on the same machine: an HTTP POST on loopback to a
// trivial handler, JetStream publishes, single-row Postgres inserts.
//
//	make bench                        # everything (about 6 minutes on 2 cores)
//	go run ./bench                    # the same, without the services check
//	BENCH_QUICK=1 go run ./bench      # short runs and small sizes (< 1 minute), for CI
//	go run ./bench -only accept,e2e   # some scenarios only
//	go run ./bench -profile           # CPU profiles of each scenario under results/pprof
//	go run ./bench -only sse -merge   # measure again and replace it in the last full run (results/full.json)
//
// It prints a table, writes the run as JSON under results/ and, on a full
// run of every scenario (or with -merge), the table of docs/benchmarks.md.
// Progress goes to stderr. Figures are measured, never asserted: a missed
// target is reported, not failed. Every scenario starts on fresh services (a new database, a new
// Redis key prefix, a new NATS data folder) and cleans them up.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// scenario is one measurement of the report.
type scenario struct {
	name  string
	title string
	run   func(ctx context.Context, r *runner, res *result) error
}

func scenarios() []scenario {
	return []scenario{
		{"gobench", "Go benchmarks of hot paths", runGoBench},
		{"baseline", "Raw baselines", runBaselines},
		{"accept", "API accept: POST /v1/channels/{id}/messages", runAccept},
		{"e2e", "End to end: accept → message.sent → read", runE2E},
		{"webhook", "Webhook delivery from a backlog", runWebhook},
		{"sse", "Browser fan-out: SSE clients on one relay", runSSE},
		{"failover", "Failover: SIGKILL of a worker holding paired sessions", runFailover},
		{"sessions", "Scale of sessions: idle simulated sessions in one worker", runSessions},
		{"media", "Inbound media: 1 MB images through download → store → event, local vs S3", runMedia},
	}
}

// runner is what scenarios share: options, services and the report.
type runner struct {
	quick    bool
	profile  bool
	out      string // results folder
	root     string // module root
	adminDSN string
	redisURL string
	log      *slog.Logger
	load     *loadSampler
	baseline map[string]float64 // raw figures other scenarios compare with
	bins     map[string]string  // built binaries by name
	started  time.Time
	// e2eDBParams, when set, makes e2e one run with these parameters added
	// to the database URL (BENCH_E2E_DB_PARAMS, e.g. plan_cache_mode=force_custom_plan).
	e2eDBParams string
}

// pick returns quick in quick mode, else full.
func pick[T any](r *runner, full, quick T) T {
	if r.quick {
		return quick
	}
	return full
}

// progress reports on stderr.
func (r *runner) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(r.started).Seconds(), fmt.Sprintf(format, args...))
}

// command is how to reproduce one scenario.
func (r *runner) command(name string) string {
	if r.quick {
		return "BENCH_QUICK=1 go run ./bench -only " + name
	}
	return "go run ./bench -only " + name
}

func main() {
	if os.Getenv(envWorkerProcess) == "1" {
		if err := runWorkerProcess(); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		only    = flag.String("only", os.Getenv("BENCH_ONLY"), "comma-separated scenarios to run (default all): "+scenarioNames())
		quick   = flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "short runs and small sizes, under a minute (BENCH_QUICK=1)")
		profile = flag.Bool("profile", os.Getenv("BENCH_PROFILE") == "1", "write a CPU profile of each scenario under <out>/pprof (BENCH_PROFILE=1)")
		out     = flag.String("out", "results", "folder of the JSON results")
		doc     = flag.String("doc", "docs/benchmarks.md", "document whose results table a full run of every scenario rewrites (empty: none)")
		merge_  = flag.Bool("merge", false, "with -only: replace these scenarios in the last full run (results/full.json) and rewrite the document's table")
	)
	flag.Parse()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	r := &runner{
		quick: *quick, profile: *profile, out: *out, root: root,
		adminDSN: envOr("WAGATE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		redisURL: envOr("WAGATE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
		log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		baseline: map[string]float64{},
		bins:     map[string]string{},
		started:  time.Now(),

		e2eDBParams: os.Getenv("BENCH_E2E_DB_PARAMS"),
	}
	selected := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			selected[n] = true
		}
	}
	for n := range selected {
		if !strings.Contains(" "+scenarioNames()+" ", " "+n+" ") {
			return fmt.Errorf("unknown scenario %q (known: %s)", n, scenarioNames())
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r.load = startLoadSampler(ctx)
	rep := &report{StartedAt: r.started, Quick: r.quick, Machine: describeMachine(ctx, r)}
	cpuStart := r.load.cpu.now()
	r.progress("bench on %d cores, load average %.2f, %s mode", rep.Machine.CPUs, r.load.now(), map[bool]string{true: "quick", false: "full"}[r.quick])
	for _, s := range scenarios() {
		if len(selected) > 0 && !selected[s.name] {
			continue
		}
		if s.name == "accept" || s.name == "webhook" {
			// These compare with raw HTTP: make sure it was measured.
			if _, ok := r.baseline["http_rps"]; !ok && !selected["baseline"] {
				r.progress("measuring the raw HTTP baseline first (%s compares with it)", s.name)
				var tmp result
				if err := measureRawHTTP(ctx, r, &tmp); err != nil {
					return err
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
		res := result{StartedAt: time.Now(), Name: s.name, Title: s.title, Command: r.command(s.name)}
		r.progress("── %s", s.title)
		mark := r.load.mark()
		cpu0 := r.load.cpu.now()
		start := time.Now()
		stopProfile := r.startProfile(s.name)
		err := s.run(ctx, r, &res)
		stopProfile()
		res.Seconds = round(time.Since(start).Seconds(), 1)
		res.Load = r.load.since(mark)
		used := r.load.cpu.now().sub(cpu0)
		res.OtherWork, res.CPU = round(100*used.others(), 0), used
		if err != nil {
			res.Error = err.Error()
			r.progress("%s failed: %v", s.name, err)
		}
		rep.Results = append(rep.Results, res)
		runtime.GC()
	}
	rep.Seconds = round(time.Since(r.started).Seconds(), 0)
	rep.Load = r.load.since(0)
	rep.OtherWork = round(100*r.load.cpu.now().sub(cpuStart).others(), 0)

	fmt.Println()
	printTable(os.Stdout, rep)
	path, err := writeJSON(r.out, rep)
	if err != nil {
		return err
	}
	fmt.Printf("\nresults: %s (load average %.2f at start, %.2f mean, %.2f max; other work %.0f%% of the busy CPU time)\n",
		path, rep.Load.Start, rep.Load.Mean, rep.Load.Max, rep.OtherWork)
	switch {
	case r.quick:
		return nil
	case len(selected) == 0:
		if err := writeFull(r.out, rep); err != nil {
			return err
		}
	case *merge_:
		if rep, err = merge(r.out, rep); err != nil {
			return err
		}
	default:
		return nil
	}
	if *doc != "" {
		if err := updateDoc(*doc, rep); err != nil {
			return err
		}
		fmt.Printf("table written to %s\n", *doc)
	}
	return nil
}

func scenarioNames() string {
	var n []string
	for _, s := range scenarios() {
		n = append(n, s.name)
	}
	return strings.Join(n, " ")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// moduleRoot finds the folder of go.mod, so `go run ./bench` works from
// anywhere in the module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run bench inside the wagate module")
		}
		dir = parent
	}
}

// startProfile writes a CPU profile of the bench process for one scenario
// (the in-process gateway included; worker processes are not).
func (r *runner) startProfile(name string) func() {
	if !r.profile {
		return func() {}
	}
	dir := filepath.Join(r.out, "pprof")
	_ = os.MkdirAll(dir, 0o755)
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		r.progress("profile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		r.progress("profile: %v", err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		r.progress("CPU profile: %s (go tool pprof -top %s)", f.Name(), f.Name())
	}
}
