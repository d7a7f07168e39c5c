package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/store"
)

// fleet is shared Postgres, Redis and NATS (embedded in the bench, on a
// loopback port) for workers running as separate processes, as machines
// of a fleet would share them.
type fleet struct {
	r      *runner
	e      *env
	shards int
	vars   map[string]string // environment of the worker processes
	store  *store.Store
	rdb    *redis.Client
	keys   names.Redis
	bus    *bus.Bus
	dir    string
}

func newFleet(ctx context.Context, r *runner, e *env, shards int, leaseTTL time.Duration) (*fleet, error) {
	dsn, err := e.database(ctx, "")
	if err != nil {
		return nil, err
	}
	dir, err := e.tempDir()
	if err != nil {
		return nil, err
	}
	auth, err := natsauth.New()
	if err != nil {
		return nil, err
	}
	emb, err := bus.StartEmbedded(dir, "127.0.0.1:-1", auth)
	if err != nil {
		return nil, err
	}
	e.defer_(emb.Shutdown)
	workerCreds := filepath.Join(dir, "worker.creds")
	if err := auth.WriteCreds(workerCreds, natsauth.RoleWorker); err != nil {
		return nil, err
	}
	admin, err := emb.As(natsauth.RoleAdmin)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	e.defer_(st.Close)
	if err := st.EnsureShards(ctx, shards); err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(e.redisURL)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(opt)
	e.defer_(func() { _ = rdb.Close() })
	prefix := e.redisPrefix()
	b, err := bus.Connect(ctx, emb.ClientURL(), names.NewNATS(""), admin)
	if err != nil {
		return nil, err
	}
	e.defer_(b.Close)
	if err := b.EnsureStreams(ctx, bus.StreamOptions{Shards: shards, EventMaxAge: time.Hour}); err != nil {
		return nil, err
	}
	return &fleet{
		r: r, e: e, shards: shards, store: st, rdb: rdb, keys: names.NewRedis(prefix), bus: b, dir: dir,
		vars: map[string]string{
			"WAGATE_DATABASE_URL":   dsn,
			"WAGATE_REDIS_URL":      e.redisURL,
			"WAGATE_REDIS_PREFIX":   prefix,
			"WAGATE_NATS_URL":       emb.ClientURL(),
			"WAGATE_NATS_CREDS":     workerCreds,
			"WAGATE_DATA_DIR":       dir,
			"WAGATE_MEDIA_URL":      filepath.Join(dir, "media"),
			"WAGATE_DRIVER":         "sim",
			"WAGATE_SIM_TIME_SCALE": "0.02",
			"WAGATE_SHARDS":         strconv.Itoa(shards),
			"WAGATE_LEASE_TTL":      leaseTTL.String(),
			"WAGATE_SEND_RATE":      "0",
			"WAGATE_WARMUP_DAYS":    "0",
			"WAGATE_LOG_LEVEL":      "warn",
			"WAGATE_LOG_FORMAT":     "text",
		},
	}, nil
}

// binary builds ./cmd/<name> once per run (the Go build cache makes it quick).
func (r *runner) binary(ctx context.Context, name string) (string, error) {
	if p, ok := r.bins[name]; ok {
		return p, nil
	}
	out, err := filepath.Abs(filepath.Join(r.out, "bin", name))
	if err != nil {
		return "", err
	}
	r.progress("building ./cmd/%s", name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir, cmd.Stdout, cmd.Stderr = r.root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s: %w", name, err)
	}
	r.bins[name] = out
	return out, nil
}

// proc is a worker process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startWorker starts cmd/worker as a separate process named id.
func (f *fleet) startWorker(ctx context.Context, id string) (*proc, error) {
	bin, err := f.r.binary(ctx, "worker")
	if err != nil {
		return nil, err
	}
	p, _, err := f.spawn(bin, id)
	return p, err
}

// spawn runs bin with the fleet's environment, extra variables, its own
// health address and a log under results/logs; it returns the process and
// the base URL of its health server.
func (f *fleet) spawn(bin, id string, extra ...map[string]string) (*proc, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logPath := filepath.Join(f.r.out, "logs", id+".log")
	_ = os.MkdirAll(filepath.Dir(logPath), 0o755)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin)
	cmd.Env = workerEnviron(append([]map[string]string{f.vars, {"WAGATE_WORKER_ID": id, "WAGATE_HTTP_ADDR": addr}}, extra...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, "", err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	f.e.defer_(p.stop)
	return p, "http://" + addr, nil
}

// workerEnviron is the bench's environment without WAGATE_ settings, plus vars.
func workerEnviron(vars ...map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAGATE_") {
			env = append(env, kv)
		}
	}
	for _, m := range vars {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// kill is SIGKILL: no release, no goodbye.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop is SIGTERM (graceful: leases released), SIGKILL after 20 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.kill()
	}
}

// holders maps each shard to the worker holding its lease ("" when free).
func (f *fleet) holders(ctx context.Context) ([]string, error) {
	keys := make([]string, f.shards)
	for k := range keys {
		keys[k] = f.keys.ShardLease(k)
	}
	vals, err := f.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]string, f.shards)
	for k, v := range vals {
		if s, ok := v.(string); ok {
			out[k], _, _ = strings.Cut(s, ":")
		}
	}
	return out, nil
}

// waitBalanced waits until every shard is held and each of workers holds
// some, none more than its target ceil(S/n).
func (f *fleet) waitBalanced(ctx context.Context, timeout time.Duration, workers ...string) error {
	deadline := time.Now().Add(timeout)
	for ctx.Err() == nil {
		h, err := f.holders(ctx)
		if err == nil {
			count := map[string]int{}
			free := 0
			for _, w := range h {
				if w == "" {
					free++
				}
				count[w]++
			}
			// Every shard held and nobody above its target ceil(S/n):
			// then nobody is far below it either.
			target := (f.shards + len(workers) - 1) / len(workers)
			ok := free == 0
			for _, w := range workers {
				ok = ok && count[w] > 0 && count[w] <= target
			}
			if ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shards not balanced over %v after %s", workers, timeout)
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return ctx.Err()
}

// seedPaired inserts n channels whose devices are already linked (as a
// simulated scan leaves them: a sim_devices row and the channel's JID), in
// shards accepted by inShard, with desired state running. A worker resumes
// them without a QR, which is what failover and restarts exercise.
func (f *fleet) seedPaired(ctx context.Context, n int, inShard func(int) bool) ([]string, error) {
	chans := make([]string, 0, n)
	var chRows, devRows [][]any
	settings, _ := json.Marshal(benchSettings)
	paired := time.Now().Add(-30 * 24 * time.Hour)
	for len(chans) < n {
		id := ids.New(ids.Channel)
		k := shard.Of(id, f.shards)
		if !inShard(k) {
			continue
		}
		i := len(chans)
		phone := fmt.Sprintf("1557%07d", i)
		jid := phone + ":1@s.whatsapp.net"
		chans = append(chans, id)
		chRows = append(chRows, []any{id, fmt.Sprintf("seed-%d", i), httpapi.HashToken(id), k, "sim", store.DesiredRunning, "inactive", jid, phone, paired, settings})
		devRows = append(devRows, []any{jid, id, phone, "bench", "android", []byte("identity")})
	}
	if _, err := f.store.Pool.CopyFrom(ctx, pgx.Identifier{"channels"},
		[]string{"id", "name", "token_hash", "shard", "driver", "desired_state", "state", "jid", "phone", "paired_at", "settings"},
		pgx.CopyFromRows(chRows)); err != nil {
		return nil, fmt.Errorf("seed channels: %w", err)
	}
	if _, err := f.store.Pool.CopyFrom(ctx, pgx.Identifier{"sim_devices"},
		[]string{"jid", "channel_id", "phone", "push_name", "platform", "identity"}, pgx.CopyFromRows(devRows)); err != nil {
		return nil, fmt.Errorf("seed devices: %w", err)
	}
	return chans, nil
}

// start publishes a start command for each channel, as the API does.
func (f *fleet) start(ctx context.Context, chans []string) error {
	for _, id := range chans {
		req := ids.New("req_")
		body, _ := json.Marshal(command.Envelope{RequestID: req, RequestedAt: time.Now().UTC()})
		if err := f.bus.PublishCommand(ctx, id, command.Start, req, body); err != nil {
			return err
		}
	}
	return nil
}

// activeSince counts channels of ids that are active with a state written
// at or after t.
func (f *fleet) activeSince(ctx context.Context, chans []string, t time.Time) (int, error) {
	var n int
	err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM channels WHERE id = ANY($1) AND state = 'active' AND state_changed_at >= $2`,
		chans, t).Scan(&n)
	return n, err
}

// states describes the channels not active since t, for error messages.
func (f *fleet) states(ctx context.Context, chans []string, t time.Time) string {
	rows, err := f.store.Pool.Query(ctx, `SELECT state, state_reason, shard, count(*) FROM channels
		WHERE id = ANY($1) AND NOT (state = 'active' AND state_changed_at >= $2) GROUP BY 1, 2, 3`, chans, t)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st, reason string
		var k, n int
		if rows.Scan(&st, &reason, &k, &n) == nil {
			out = append(out, fmt.Sprintf("%d %s (%s) in shard %d", n, st, reason, k))
		}
	}
	return strings.Join(out, "; ")
}

// waitActive waits until every channel is active since t, reporting
// progress; it returns when that happened.
func (f *fleet) waitActive(ctx context.Context, chans []string, t time.Time, timeout time.Duration, label string) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	last := time.Now()
	for ctx.Err() == nil {
		n, err := f.activeSince(ctx, chans, t)
		if err == nil && n == len(chans) {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: %d of %d channels active after %s (%s)", label, n, len(chans), timeout, f.states(ctx, chans, t))
		}
		if time.Since(last) >= 5*time.Second {
			f.r.progress("  %s: %d of %d active", label, n, len(chans))
			last = time.Now()
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return time.Time{}, ctx.Err()
}
