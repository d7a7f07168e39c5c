package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/api"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/worker"
)

// Options tune an in-process gateway (tests and benchmarks).
type Options struct {
	// Listener, when set, is used instead of listening on cfg.HTTPAddr.
	Listener net.Listener
	// Worker adjusts the worker's configuration.
	Worker func(*worker.Config)
}

// Gateway is the API, a worker and a dispatcher in one process.
type Gateway struct {
	Deps       *Deps
	Worker     *worker.Worker
	API        *api.Server
	adminToken string
	generated  bool
	url        string
	srv        *http.Server
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	errc       chan error
	stopOnce   sync.Once
}

// Start opens the dependencies and starts every part; the gateway runs
// until Stop or until ctx ends.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*Gateway, error) {
	token, generated, err := AdminToken(cfg)
	if err != nil {
		return nil, err
	}
	deps, err := Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	g := &Gateway{Deps: deps, adminToken: token, generated: generated, errc: make(chan error, 4)}
	if generated {
		log.Info("generated an admin token and stored it in the data folder", "path", cfg.DataDir+"/admin-token")
	}
	if g.Worker, err = deps.Worker(ctx, o.Worker); err != nil {
		deps.Close()
		return nil, err
	}
	mounts, err := APIMounts(deps, token)
	if err != nil {
		deps.Close()
		return nil, err
	}
	disp, err := NewDispatcher(deps)
	if err != nil {
		deps.Close()
		return nil, err
	}
	mounts = append(mounts, disp.Mounts...)
	g.API, err = api.New(api.Config{
		Store: deps.Store, Bus: deps.Bus, Redis: deps.Redis, Keys: deps.Keys,
		AdminToken: token, AdminTokens: cfg.AdminTokens, DefaultDriver: cfg.Driver, Shards: cfg.Shards,
		SimEnabled: cfg.Driver == config.DriverSim, Logger: log,
		Mounts: mounts, Channels: deps.Channels, Secrets: deps.Secrets,
	})
	if err != nil {
		deps.Close()
		return nil, err
	}
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			deps.Close()
			return nil, fmt.Errorf("WAGATE_HTTP_ADDR=%q: %w (is another process using the port?)", cfg.HTTPAddr, err)
		}
	}
	g.url = "http://" + displayAddr(ln.Addr())
	g.srv = &http.Server{Handler: g.API.Handler(), ReadHeaderTimeout: 10 * time.Second}

	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	g.run(func() error { return g.Worker.Run(rctx) })
	for _, r := range disp.Runners {
		g.run(func() error { return r(rctx) })
	}
	g.run(func() error {
		err := g.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	go func() {
		select {
		case <-ctx.Done():
			g.Stop()
		case <-rctx.Done():
		}
	}()
	return g, nil
}

func (g *Gateway) run(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.errc <- err
		}
	}()
}

// URL is the base URL of the HTTP server.
func (g *Gateway) URL() string { return g.url }

// AdminToken is the admin token in force.
func (g *Gateway) AdminToken() string { return g.adminToken }

// AdminTokenSource says where the admin token comes from: "" when this
// start generated it (the banner then prints it once), else the variable
// or file that holds it — never the token itself.
func (g *Gateway) AdminTokenSource() string {
	switch {
	case g.generated:
		return ""
	case g.Deps.Cfg.AdminToken != "":
		return "WAGATE_ADMIN_TOKEN"
	default:
		return filepath.Join(g.Deps.Cfg.DataDir, "admin-token")
	}
}

// Err reports the first part that failed.
func (g *Gateway) Err() <-chan error { return g.errc }

// Stop shuts the gateway down gracefully: HTTP first (browser streams
// end with it), then the worker hands its shards off, then the
// connections close. It runs once; every call returns when it is done,
// so the end of Start's context and a caller may both call it.
func (g *Gateway) Stop() {
	g.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := g.srv.Shutdown(ctx); err != nil {
			g.Deps.Log.Warn("http shutdown", "err", err)
		}
		g.cancel()
		g.wg.Wait()
		g.Deps.Close()
	})
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
		return a.String()
	}
	return a.String()
}
