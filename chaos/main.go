// Command chaos is wagate's fault-injection suite (`make chaos`). It runs a
// whole fleet as separate processes on servers of its own — a Redis, a
// nats-server with JetStream file storage and a Postgres cluster it may
// stop — with cmd/api, two cmd/worker, cmd/dispatcher and an in-process
// webhook receiver that verifies Standard Webhooks signatures. Channels
// are paired through the simulator API and a client sends steady traffic
// (20 sends/s by default) with an Idempotency-Key per message, retrying on
// 5xx, 429 and transport errors with the same key, as a real client would;
// the simulated phone answers with delivered and read receipts.
//
// Each scenario injects one fault under that traffic:
//
//	kill-api, kill-worker-a, kill-worker-b, kill-dispatcher
//	            kill -9 of the binary; a supervisor starts it again at once
//	redis       Redis killed (-9) and restarted empty 5 s later
//	nats        nats-server killed (-9) and restarted 5 s later on the same store
//	postgres    Postgres stopped (immediate mode) for 15 s
//	receiver    the webhook receiver answers 500 for 20 s
//
// and then accounts for every key it sent:
//
//	accepted     keys answered 202 (or replayed) by the API
//	sent         accepted messages whose final status (GET messages) is sent or later
//	lost         accepted messages with no final status at the end
//	failed       accepted messages whose status is failed
//	duplicated   messages the simulated phone received more than once
//	             (names.Redis.SimDeliveries), plus keys answered with two ids
//	statuses     sent messages that never reached read (a receipt lost)
//	events lost  statuses recorded in Postgres without their message.sent,
//	             .delivered or .read event in WA_EVT
//	webhooks lost events in WA_EVT never received by the webhook receiver
//	recovery     seconds from the end of the fault until the last message
//	             issued before it was sent (webhook recovery: received)
//
// A scenario passes with nothing lost, failed or duplicated, every message
// read with its three events delivered, recovery within the lease TTL + 5 s
// and webhook recovery within 30 s. The suite prints a table, writes
// docs/chaos.md and exits 1 when a scenario fails.
//
// Usage:
//
//	go run ./chaos                          # every scenario (about 7 minutes on 2 cores)
//	go run ./chaos -quick                   # shorter phases
//	go run ./chaos -scenarios redis,nats    # a subset
//
// It needs, as root or a user allowed to, pg_createcluster/pg_ctlcluster
// (postgresql-common), redis-server and Go; it installs nats-server with
// `go install` into bin/tools. Logs of every process are written under
// results/chaos/logs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	quick     bool
	scenarios []string
	channels  int
	rate      float64
	leaseTTL  time.Duration
	simScale  float64
	warm      time.Duration // steady traffic before the fault
	after     time.Duration // traffic after the fault ends
	settle    time.Duration // how long to wait for statuses and webhooks after the traffic
	down      time.Duration // how long Redis and NATS stay down
	pgDown    time.Duration
	hookDown  time.Duration
	doc       string
	keep      bool
}

func main() {
	var o options
	var scen string
	flag.BoolVar(&o.quick, "quick", false, "shorter phases (warm-up 5 s, 10 s after each fault)")
	flag.StringVar(&scen, "scenarios", strings.Join(scenarioNames(), ","), "comma-separated scenarios to run")
	flag.IntVar(&o.channels, "channels", 8, "paired channels receiving the traffic")
	flag.Float64Var(&o.rate, "rate", 20, "sends per second")
	flag.DurationVar(&o.leaseTTL, "lease-ttl", 5*time.Second, "WAGATE_LEASE_TTL of the workers")
	flag.Float64Var(&o.simScale, "sim-scale", 0.05, "WAGATE_SIM_TIME_SCALE (0.05: receipts after 50 and 150 ms)")
	flag.DurationVar(&o.settle, "settle", 60*time.Second, "wait for statuses and webhooks after the traffic stops")
	flag.StringVar(&o.doc, "doc", "docs/chaos.md", "report to write (empty: none)")
	flag.BoolVar(&o.keep, "keep", false, "keep the Postgres cluster and the run folder afterwards")
	flag.Parse()
	o.warm, o.after = 10*time.Second, 20*time.Second
	if o.quick {
		o.warm, o.after = 5*time.Second, 10*time.Second
	}
	o.down, o.pgDown, o.hookDown = 5*time.Second, 15*time.Second, 20*time.Second
	for s := range strings.SplitSeq(scen, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if scenarioByName(s) == nil {
			fmt.Fprintf(os.Stderr, "chaos: unknown scenario %q (known: %s)\n", s, strings.Join(scenarioNames(), ", "))
			os.Exit(2)
		}
		o.scenarios = append(o.scenarios, s)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// progress prints a timestamped line on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05.0"), fmt.Sprintf(format, args...))
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
