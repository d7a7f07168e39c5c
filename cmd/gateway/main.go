// Command gateway runs all of wagate in one process — API, worker,
// dispatcher and an embedded NATS JetStream server — against local Postgres
// and Redis. It is what `make run` starts.
//
// SIGINT and SIGTERM shut it down gracefully and it exits 0; a second
// signal during the shutdown ends it at once.
//
// `gateway nats-creds <role>` prints a NATS credential (.creds) of role
// (admin, api, worker, dispatcher or app) signed by the keys in
// WAGATE_DATA_DIR, creating them on first use; `gateway nats-server-config`
// prints the nats-server configuration that trusts those keys. Together
// they set up NATS authentication of a split deployment (see README).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/ops"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "nats-") {
		os.Exit(natsCommand(os.Args[1:]))
	}
	os.Exit(run())
}

// natsCommand runs the nats-creds and nats-server-config subcommands.
func natsCommand(args []string) int {
	usage := "usage: gateway [nats-creds <admin|api|worker|dispatcher|app> [name] | nats-server-config]"
	cfg, err := config.FromEnv(config.RoleGateway)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate:", err)
		return 2
	}
	switch {
	case args[0] == "nats-creds" && (len(args) == 2 || len(args) == 3):
		role, err := natsauth.ParseRole(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "wagate:", err)
			return 2
		}
		auth, err := natsauth.LoadOrCreate(cfg.DataDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wagate:", err)
			return 1
		}
		name := ""
		if len(args) == 3 {
			name = args[2]
		}
		creds, err := auth.Creds(role, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wagate:", err)
			return 1
		}
		_, _ = os.Stdout.Write(creds)
		return 0
	case args[0] == "nats-server-config" && len(args) == 1:
		auth, err := natsauth.LoadOrCreate(cfg.DataDir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wagate:", err)
			return 1
		}
		fmt.Print(auth.ServerConfig())
		return 0
	}
	fmt.Fprintln(os.Stderr, usage)
	return 2
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
	admin := g.AdminToken() + "  (generated now and stored in " + filepath.Join(cfg.DataDir, "admin-token") + ")"
	if src := g.AdminTokenSource(); src != "" {
		admin = "as set in " + src
	}
	fmt.Fprintf(os.Stderr, "\nwagate is running (driver %s)\n  dashboard:   %s/\n  API:         %s/v1  (OpenAPI: %s/v1/openapi.yaml)\n  admin token: %s\n",
		cfg.Driver, g.URL(), g.URL(), g.URL(), admin)
	if cfg.NATSListen != "" && g.Deps.Embedded != nil {
		fmt.Fprintf(os.Stderr, "  NATS:        %s (publish commands on %s with the credentials in %s)\n",
			g.Deps.Embedded.ClientURL(), g.Deps.Bus.Names.Cmd("<channel>", "<verb>"), filepath.Join(cfg.DataDir, natsauth.AppCredsFile))
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
