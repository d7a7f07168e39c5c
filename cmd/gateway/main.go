// Command gateway runs all of wagate in one process — API, worker,
// dispatcher and an embedded NATS JetStream server — against local Postgres
// and Redis. It is what `make run` starts.
//
// SIGINT and SIGTERM shut it down gracefully and it exits 0; a second
// signal during the shutdown ends it at once.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/ops"
)

func main() {
	os.Exit(run())
}

// run returns the process's exit code.
func run() int {
	cfg, err := config.FromEnv(config.RoleGateway)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate:", err)
		return 2
	}
	log := ops.Logger(cfg.LogLevel, cfg.LogFormat, nil)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := app.Start(ctx, cfg, log, app.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate: cannot start:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "\nwagate is running (driver %s)\n  dashboard:   %s/\n  API:         %s/v1  (OpenAPI: %s/v1/openapi.yaml)\n  admin token: %s\n",
		cfg.Driver, g.URL(), g.URL(), g.URL(), g.AdminToken())
	if cfg.NATSListen != "" {
		fmt.Fprintf(os.Stderr, "  NATS:        nats://%s (publish commands on %s)\n", cfg.NATSListen, g.Deps.Bus.Names.Cmd("<channel>", "<verb>"))
	}
	fmt.Fprintln(os.Stderr, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
		stop()
		log.Info("shutting down")
		g.Stop()
		log.Info("stopped")
		return 0
	case err := <-g.Err():
		log.Error("a part of the gateway failed; shutting down", "err", err)
		g.Stop()
		return 1
	}
}
