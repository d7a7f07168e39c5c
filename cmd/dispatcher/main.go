// Command dispatcher consumes wagate's events: it fans them out to webhook
// endpoints and delivers them with durable retries (pkg/webhook), relays
// them to browsers over SSE and WebSocket (pkg/relay), and serves
// /healthz, /readyz and /metrics. Run any number of replicas: they share
// the durable consumers and the retry table.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ops"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wagate dispatcher:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv(config.RoleDispatcher)
	if err != nil {
		return err
	}
	log := ops.Logger(cfg.LogLevel, cfg.LogFormat, nil).With("role", string(cfg.Role))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	deps, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer deps.Close()
	disp, err := app.NewDispatcher(deps)
	if err != nil {
		return err
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.Recovery()) // no request logger: stream tokens travel in query strings
	opsMux := gin.WrapH(ops.Mux(deps.Checks()...))
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		e.GET(p, opsMux)
	}
	// Browsers authenticate with stream tokens; apps may use the admin or
	// a channel token when WAGATE_ADMIN_TOKEN is set here too.
	auth := httpapi.NewAuthenticator(append([]string{cfg.AdminToken}, cfg.AdminTokens...), deps.Store).Middleware()
	for _, mount := range disp.Mounts {
		mount(e, auth)
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on WAGATE_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	log.Info("dispatcher listening", "addr", ln.Addr().String())
	errc := make(chan error, 1+len(disp.Runners))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var wg sync.WaitGroup
	for _, r := range disp.Runners {
		wg.Go(func() {
			if err := r(runCtx); err != nil {
				errc <- err
			}
		})
	}

	select {
	case <-ctx.Done():
		log.Info("stopping on signal")
	case err = <-errc:
		log.Error("stopping", "error", err)
	}
	// Streams and deliveries end with the runners; then the server shuts
	// down what is left.
	cancelRun()
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "error", serr)
	}
	return err
}
