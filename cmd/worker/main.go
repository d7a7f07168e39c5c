// Command worker acquires shard leases and runs the WhatsApp sessions of
// the shards it owns. Scale by adding workers: shards rebalance.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/ops"
)

func main() {
	cfg, err := config.FromEnv(config.RoleWorker)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate worker:", err)
		os.Exit(2)
	}
	log := ops.Logger(cfg.LogLevel, cfg.LogFormat, nil).With("worker", cfg.WorkerID)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, err := app.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate worker: cannot start:", err)
		os.Exit(1)
	}
	defer deps.Close()
	w, err := deps.Worker(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate worker:", err)
		os.Exit(1)
	}
	checks := append(deps.Checks(), ops.Check{Name: "worker", Fn: w.Ready})
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: ops.Mux(checks...), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := ops.Serve(ctx, srv); err != nil && err != http.ErrServerClosed {
			log.Error("health server failed", "err", err)
		}
	}()
	log.Info("worker running", "health", cfg.HTTPAddr)
	if err := w.Run(ctx); err != nil {
		log.Error("worker failed", "err", err)
		os.Exit(1)
	}
}
