// Command api serves wagate's REST API and dashboard. `api migrate`
// applies the database migrations and creates or updates the NATS streams,
// then exits (the Kubernetes migration Job).
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/ops"
)

func main() {
	migrateOnly := len(os.Args) > 1 && os.Args[1] == "migrate"
	role := config.RoleAPI
	if migrateOnly {
		role = config.RoleMigrate
	}
	cfg, err := config.FromEnv(role)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate api:", err)
		os.Exit(2)
	}
	log := ops.Logger(cfg.LogLevel, cfg.LogFormat, nil)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, err := app.Open(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate api: cannot start:", err)
		os.Exit(1)
	}
	defer deps.Close()
	if migrateOnly {
		log.Info("migrations applied and streams in place")
		return
	}
	mounts, err := app.APIMounts(deps, cfg.AdminToken)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate api:", err)
		os.Exit(1)
	}
	srv, err := api.New(api.Config{
		Store: deps.Store, Bus: deps.Bus, Redis: deps.Redis, Keys: deps.Keys,
		AdminToken: cfg.AdminToken, AdminTokens: cfg.AdminTokens, DefaultDriver: cfg.Driver, Shards: cfg.Shards,
		SimEnabled: cfg.Driver == config.DriverSim, Logger: log, Mounts: mounts, Channels: deps.Channels, Secrets: deps.Secrets,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate api:", err)
		os.Exit(1)
	}
	hs := &http.Server{Addr: cfg.HTTPAddr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("api listening", "addr", cfg.HTTPAddr)
	if err := ops.Serve(ctx, hs); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("api server failed", "err", err)
		os.Exit(1)
	}
}
