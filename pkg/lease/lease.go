package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
)

// ErrLost is returned when a renewal finds the lease held by someone else
// or expired.
var ErrLost = errors.New("lease: lost")

// Config configures a Manager.
type Config struct {
	Redis  *redis.Client
	Keys   names.Redis
	Worker string
	// TTL is the lease time-to-live (default 15 s).
	TTL time.Duration
	// Margin is subtracted from the trust window (default TTL/5).
	Margin time.Duration
	// Now is the clock (default time.Now; its monotonic reading is used).
	Now func() time.Time
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = 15 * time.Second
	}
	if c.Margin <= 0 {
		c.Margin = c.TTL / 5
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Manager acquires, renews and releases shard leases for one worker.
type Manager struct {
	cfg Config
	// process is unique to this Manager: it tells this process's claim
	// of the worker id from another process's claim of the same id.
	process string
}

// New returns a Manager.
func New(cfg Config) *Manager { return &Manager{cfg: cfg.WithDefaults(), process: nonce()} }

// TTL returns the configured time-to-live.
func (m *Manager) TTL() time.Duration { return m.cfg.TTL }

// Lease is a held shard lease.
type Lease struct {
	Shard      int
	value      string
	trustUntil time.Time
}

// TrustedUntil is the instant after which the holder must consider the lease lost.
func (l *Lease) TrustedUntil() time.Time { return l.trustUntil }

// Value is "<worker>:<nonce>".
func (l *Lease) Value() string { return l.value }

// ErrDuplicateWorker: another live process heartbeats under this worker
// id. Two processes under one id would count as one live worker, and each
// would aim for the other's shards too.
var ErrDuplicateWorker = errors.New("lease: duplicate worker id")

// claimScript claims the worker id for this process for a TTL: it returns
// the other process's token when another process holds it.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`)

var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

// TryAcquire takes shard k's lease if it is free.
func (m *Manager) TryAcquire(ctx context.Context, k int) (*Lease, bool, error) {
	value := m.cfg.Worker + ":" + nonce()
	start := m.cfg.Now()
	ok, err := m.cfg.Redis.SetNX(ctx, m.cfg.Keys.ShardLease(k), value, m.cfg.TTL).Result()
	if err != nil {
		return nil, false, fmt.Errorf("lease: acquire shard %d: %w", k, err)
	}
	if !ok {
		return nil, false, nil
	}
	return &Lease{Shard: k, value: value, trustUntil: start.Add(m.cfg.TTL - m.cfg.Margin)}, true, nil
}

// Renew extends l; on success its trust window moves forward from the
// moment the renewal was sent. ErrLost means the lease is gone.
func (m *Manager) Renew(ctx context.Context, l *Lease) error {
	start := m.cfg.Now()
	n, err := renewScript.Run(ctx, m.cfg.Redis, []string{m.cfg.Keys.ShardLease(l.Shard)}, l.value, m.cfg.TTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("lease: renew shard %d: %w", l.Shard, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: shard %d", ErrLost, l.Shard)
	}
	l.trustUntil = start.Add(m.cfg.TTL - m.cfg.Margin)
	return nil
}

// Release deletes l if still held.
func (m *Manager) Release(ctx context.Context, l *Lease) error {
	_, err := releaseScript.Run(ctx, m.cfg.Redis, []string{m.cfg.Keys.ShardLease(l.Shard)}, l.value).Result()
	if err != nil {
		return fmt.Errorf("lease: release shard %d: %w", l.Shard, err)
	}
	return nil
}

// Holds reports whether l is still the value in Redis (used on
// StreamReplaced: keep the session only if the lease is ours).
func (m *Manager) Holds(ctx context.Context, l *Lease) (bool, error) {
	v, err := m.cfg.Redis.Get(ctx, m.cfg.Keys.ShardLease(l.Shard)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v == l.value && m.cfg.Now().Before(l.trustUntil), nil
}

// Holder returns the worker holding shard k ("" when free).
func (m *Manager) Holder(ctx context.Context, k int) (string, error) {
	v, err := m.cfg.Redis.Get(ctx, m.cfg.Keys.ShardLease(k)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	w, _, _ := strings.Cut(v, ":")
	return w, nil
}

// Heartbeat records this worker as live and returns the number of live
// workers (those that beat within a TTL), pruning dead ones.
func (m *Manager) Heartbeat(ctx context.Context) (int, error) {
	holder, err := claimScript.Run(ctx, m.cfg.Redis, []string{m.cfg.Keys.WorkerClaim(m.cfg.Worker)}, m.process, m.cfg.TTL.Milliseconds()).Text()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("lease: claim worker id: %w", err)
	}
	if holder != "" {
		return 0, fmt.Errorf("%w: %q is held by another live process (%s)", ErrDuplicateWorker, m.cfg.Worker, holder)
	}
	now := time.Now().UnixMilli()
	key := m.cfg.Keys.Workers()
	pipe := m.cfg.Redis.TxPipeline()
	pipe.ZAdd(ctx, key, redis.Z{Score: float64(now), Member: m.cfg.Worker})
	pipe.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now-m.cfg.TTL.Milliseconds(), 10))
	card := pipe.ZCard(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("lease: heartbeat: %w", err)
	}
	return int(card.Val()), nil
}

// Leave removes this worker from the live set (graceful shutdown) and
// frees its id.
func (m *Manager) Leave(ctx context.Context) error {
	_ = releaseScript.Run(ctx, m.cfg.Redis, []string{m.cfg.Keys.WorkerClaim(m.cfg.Worker)}, m.process).Err()
	return m.cfg.Redis.ZRem(ctx, m.cfg.Keys.Workers(), m.cfg.Worker).Err()
}

// Target is the number of shards each of live workers aims to own.
func Target(shards, live int) int {
	if live < 1 {
		live = 1
	}
	return int(math.Ceil(float64(shards) / float64(live)))
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
