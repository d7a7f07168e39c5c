package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/worker"
)

// env gives each scenario fresh, isolated real services: a Postgres
// database of its own (dropped afterwards), a Redis key prefix (keys
// deleted afterwards) and a temporary folder for an embedded NATS server.
type env struct {
	// asyncCommit sets synchronous_commit = off on the databases it creates
	// (a diagnostic: how much of a figure is waiting for WAL flushes).
	asyncCommit bool
	adminDSN    string
	redisURL    string
	log         *slog.Logger
	cleanups    []func()
}

func newEnv(adminDSN, redisURL string, log *slog.Logger) *env {
	return &env{adminDSN: adminDSN, redisURL: redisURL, log: log}
}

// close runs the clean-ups, last registered first.
func (e *env) close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

func (e *env) defer_(f func()) { e.cleanups = append(e.cleanups, f) }

func unique() string { return strings.ToLower(ids.At(time.Now()))[8:] }

// database creates an empty database and returns its DSN with extra query
// parameters (e.g. pool_max_conns=16).
func (e *env) database(ctx context.Context, params string) (string, error) {
	name := "wagate_bench_" + unique()
	conn, err := pgx.Connect(ctx, e.adminDSN)
	if err != nil {
		return "", fmt.Errorf("connect to Postgres at %s: %w (start it with `make services`)", e.adminDSN, err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	if err == nil && e.asyncCommit {
		_, err = conn.Exec(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off")
	}
	_ = conn.Close(ctx)
	if err != nil {
		return "", err
	}
	e.defer_(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, e.adminDSN)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(e.adminDSN)
	if err != nil {
		return "", err
	}
	dsn := strings.Replace(e.adminDSN, "/"+cfg.Database+"?", "/"+name+"?", 1)
	if params != "" {
		dsn += "&" + params
	}
	return dsn, nil
}

// redisPrefix returns a fresh key prefix whose keys are deleted afterwards.
func (e *env) redisPrefix() string {
	prefix := "wagate_bench:" + unique() + ":"
	e.defer_(func() {
		opt, err := redis.ParseURL(e.redisURL)
		if err != nil {
			return
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 500 {
				rdb.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
	})
	return prefix
}

// tempDir is removed afterwards.
func (e *env) tempDir() (string, error) {
	dir, err := os.MkdirTemp("", "wagate-bench-")
	if err != nil {
		return "", err
	}
	e.defer_(func() { _ = os.RemoveAll(dir) })
	return dir, nil
}

// adminToken is the admin token of every gateway the bench starts.
const adminToken = "bench-admin-token-0123456789"

// gatewayEnv is the configuration of an in-process gateway on fresh
// services: the simulator, no send-rate limit, logs at warn (a log line
// per request would measure the logger).
func (e *env) gatewayEnv(ctx context.Context, dbParams string) (map[string]string, error) {
	dsn, err := e.database(ctx, dbParams)
	if err != nil {
		return nil, err
	}
	dir, err := e.tempDir()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"WAGATE_DATABASE_URL":   dsn,
		"WAGATE_REDIS_URL":      e.redisURL,
		"WAGATE_REDIS_PREFIX":   e.redisPrefix(),
		"WAGATE_DATA_DIR":       dir,
		"WAGATE_NATS_LISTEN":    "",
		"WAGATE_DRIVER":         "sim",
		"WAGATE_SIM_TIME_SCALE": "0.02",
		"WAGATE_SEND_RATE":      "0",
		"WAGATE_WARMUP_DAYS":    "0",
		"WAGATE_ADMIN_TOKEN":    adminToken,
		"WAGATE_LOG_LEVEL":      "warn",
		"WAGATE_LOG_FORMAT":     "text",
	}, nil
}

func loadConfig(role config.Role, vars map[string]string) (config.Config, error) {
	return config.Load(role, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
}

// startGateway starts an in-process gateway (API, worker, dispatcher parts,
// embedded NATS) on a loopback port; it is stopped by the env's clean-up.
func (e *env) startGateway(ctx context.Context, vars map[string]string, tune func(*worker.Config)) (*app.Gateway, error) {
	cfg, err := loadConfig(config.RoleGateway, vars)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g, err := app.Start(ctx, cfg, e.log, app.Options{Listener: ln, Worker: tune})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	e.defer_(g.Stop)
	return g, nil
}
