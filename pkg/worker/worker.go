package worker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/lease"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ratelimit"
	"github.com/wagate/wagate/pkg/secretbox"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

var (
	metricShards = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_worker_shards_owned", Help: "Shards whose lease this worker holds.",
	})
	metricSessions = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "wagate_worker_sessions", Help: "WhatsApp sessions open in this worker.",
	})
	metricCommands = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_worker_commands_total", Help: "Commands handled, by verb and outcome.",
	}, []string{"verb", "outcome"})
	metricTransitions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "wagate_worker_state_transitions_total", Help: "Channel state transitions, by new state.",
	}, []string{"to"})
	metricLeaseLost = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_worker_leases_lost_total", Help: "Shards dropped because their lease or epoch was lost.",
	})
)

// Config configures a Worker. Durations are wall-clock; zero fields get the
// defaults of WithDefaults.
type Config struct {
	// ID names the worker in leases, shard owners and logs.
	ID string
	// Shards is the fleet's fixed shard count.
	Shards int
	Store  *store.Store
	Bus    *bus.Bus
	Redis  *redis.Client
	Keys   names.Redis
	// Drivers by name ("whatsmeow", "sim"); a channel names its driver.
	Drivers map[string]session.Driver
	// LeaseTTL is the shard lease time-to-live (default 15 s).
	LeaseTTL time.Duration
	// AckWait is how long a command may stay unacknowledged before NATS
	// redelivers it (default 10 s). Commands are short (a send only wakes
	// the outbound queue) and idempotent, so a short wait mostly bounds how
	// long the commands a crashed worker held wait for the next owner.
	AckWait time.Duration
	// MailboxSize bounds the queued commands of one channel (default 64).
	MailboxSize int
	// ResumeSpread spreads the reconnection of a shard's channels after a
	// lease is acquired, so a moving shard causes no reconnect storm
	// (default 2 s).
	ResumeSpread time.Duration
	// ReconnectBase and ReconnectMax bound the exponential backoff with full
	// jitter between reconnection attempts (defaults 1 s and 2 min).
	ReconnectBase, ReconnectMax time.Duration
	// ReconnectAttempts failed attempts in a row put the channel in error;
	// it is retried again after ErrorRetry (defaults 8 and 5 min).
	ReconnectAttempts int
	ErrorRetry        time.Duration
	// SendRate is the default outbound limit per channel (a channel's
	// settings may override it); WarmupDays is how long a newly paired
	// number ramps up to it.
	SendRate   config.Rate
	WarmupDays int
	// SendAttempts bounds the attempts of a send failing with errors worth a
	// retry (timeouts, 5xx answers) before it fails with code
	// send_retries_exhausted; SendRetryBase and SendRetryMax bound the
	// exponential backoff with jitter between them. Sends that can never
	// succeed fail at once. Defaults 8, 2 s and 5 min.
	SendAttempts                int
	SendRetryBase, SendRetryMax time.Duration
	// SweepEvery is how often the owner of a shard relays the events left
	// in its outbox and sweeps its queued messages (default 2 s);
	// StaleQueued is how long a message may stay queued before the sweep
	// wakes its channel (default 5 s).
	SweepEvery, StaleQueued time.Duration
	// RowMaxAge bounds how old the channel row (its settings) a send is
	// planned with may be, should an announcement of a change be lost
	// (default 30 s; settings.go).
	RowMaxAge time.Duration
	Logger    *slog.Logger

	// Media keeps the files of media messages; nil: none are downloaded
	// (they stay pending). See media.go.
	Media media.Store
	// MediaDownloads bounds the downloads running at once (default 4).
	MediaDownloads int
	// MediaRetention is how long stored files are kept (default 720 h),
	// checked every MediaRetentionEvery (default 10 min).
	MediaRetention, MediaRetentionEvery time.Duration
	// MediaRetryTimeout bounds the wait for the phone's answer to a media
	// retry (default 60 s); MediaRetryBase is the first delay after a
	// failed download (default 2 s).
	MediaRetryTimeout, MediaRetryBase time.Duration
	// MediaPresignTTL is the lifetime of presigned URLs in events (S3;
	// default 1 h).
	MediaPresignTTL time.Duration
	// MediaTempDir holds downloads in progress (default os.TempDir()).
	MediaTempDir string
	// Secrets opens the channels' sealed proxy URLs (WAGATE_SECRET_KEY,
	// the api's key). Without it a channel with a proxy does not connect:
	// it goes to error with reason proxy_unreadable.
	Secrets *secretbox.Box
	// MediaFetchClient fetches the media URLs of sends into the media
	// store (sendmedia.go). Default: a client that reaches public
	// addresses only (pkg/ssrf). MediaFetchMax bounds a fetched file
	// (default 64 MiB), MediaFetchTimeout one fetch (default 60 s).
	MediaFetchClient  *http.Client
	MediaFetchMax     int64
	MediaFetchTimeout time.Duration

	// beforeInbound, set by tests only, runs before an inbound message is
	// recorded, the instant a crash must not lose it; false stops there as
	// a killed process would.
	beforeInbound func(channel string) bool
	// beforeReceipts, set by tests only, runs before receipts are
	// recorded; false stops there as a killed process would.
	beforeReceipts func(channel string) bool
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.AckWait <= 0 {
		c.AckWait = 10 * time.Second
	}
	if c.MailboxSize <= 0 {
		c.MailboxSize = 64
	}
	if c.ResumeSpread <= 0 {
		c.ResumeSpread = 2 * time.Second
	}
	if c.ReconnectBase <= 0 {
		c.ReconnectBase = time.Second
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = 2 * time.Minute
	}
	if c.ReconnectAttempts <= 0 {
		c.ReconnectAttempts = 8
	}
	if c.ErrorRetry <= 0 {
		c.ErrorRetry = 5 * time.Minute
	}
	if c.SendAttempts <= 0 {
		c.SendAttempts = 8
	}
	if c.SendRetryBase <= 0 {
		c.SendRetryBase = 2 * time.Second
	}
	if c.SendRetryMax <= 0 {
		c.SendRetryMax = 5 * time.Minute
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 2 * time.Second
	}
	if c.StaleQueued <= 0 {
		c.StaleQueued = 5 * time.Second
	}
	if c.RowMaxAge <= 0 {
		c.RowMaxAge = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MediaDownloads <= 0 {
		c.MediaDownloads = 4
	}
	if c.MediaRetention <= 0 {
		c.MediaRetention = 720 * time.Hour
	}
	if c.MediaRetentionEvery <= 0 {
		c.MediaRetentionEvery = 10 * time.Minute
	}
	if c.MediaRetryTimeout <= 0 {
		c.MediaRetryTimeout = time.Minute
	}
	if c.MediaRetryBase <= 0 {
		c.MediaRetryBase = 2 * time.Second
	}
	if c.MediaFetchClient == nil {
		c.MediaFetchClient = newMediaFetchClient(false)
	}
	if c.MediaFetchMax <= 0 {
		c.MediaFetchMax = defaultMediaFetchMax
	}
	if c.MediaFetchTimeout <= 0 {
		c.MediaFetchTimeout = defaultMediaFetchTimeout
	}
	if c.MediaPresignTTL <= 0 {
		c.MediaPresignTTL = time.Hour
	}
	return c
}

// Worker owns shards and runs their sessions.
type Worker struct {
	cfg     Config
	leases  *lease.Manager
	limiter *ratelimit.Limiter
	log     *slog.Logger

	mu        sync.Mutex
	shards    map[int]*shardRun
	ready     bool
	duplicate bool // another live process uses this worker id

	usage usageBuffer
	// advances records the status changes of all channels together.
	advances advances
	// acked are published events to delete from the outbox (outbox.go).
	acked ackedEvents
	// downloads bounds the media downloads (media.go).
	downloads *downloads
	// beforePublish, when set (tests), runs between the commit of a state
	// change and the publication of its events; false skips the
	// publication, as a process killed at that instant would.
	beforePublish atomic.Pointer[func([]event.Envelope) bool]
}

// New returns a Worker; Run starts it.
func New(cfg Config) *Worker {
	cfg = cfg.WithDefaults()
	return &Worker{
		cfg:       cfg,
		leases:    lease.New(lease.Config{Redis: cfg.Redis, Keys: cfg.Keys, Worker: cfg.ID, TTL: cfg.LeaseTTL}),
		limiter:   ratelimit.New(cfg.Redis, cfg.Keys),
		log:       cfg.Logger.With("worker", cfg.ID),
		shards:    map[int]*shardRun{},
		advances:  advances{st: cfg.Store},
		downloads: newDownloads(cfg.MediaDownloads),
	}
}

// Owned returns the shards this worker holds now.
func (w *Worker) Owned() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int, 0, len(w.shards))
	for k := range w.shards {
		out = append(out, k)
	}
	return out
}

// Ready reports whether the worker completed one balancing round.
func (w *Worker) Ready(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.duplicate {
		return errors.New("another live worker uses this worker id (WAGATE_WORKER_ID)")
	}
	if !w.ready {
		return errors.New("worker has not joined the fleet yet")
	}
	return nil
}

// Run balances shards until ctx ends, then hands them off gracefully:
// consumers stop, sessions disconnect (devices stay linked) and leases are
// released so another worker takes over without waiting for the TTL.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("worker starting", "shards", w.cfg.Shards, "lease_ttl", w.cfg.LeaseTTL)
	tick := time.NewTicker(w.cfg.LeaseTTL / 3)
	defer tick.Stop()
	watch := time.NewTicker(min(w.cfg.LeaseTTL/10, 250*time.Millisecond))
	defer watch.Stop()
	flush := time.NewTicker(usageFlushEvery)
	defer flush.Stop()
	if w.cfg.Media != nil {
		go w.retainMedia(ctx)
	}
	defer w.listenChannelChanges()()
	w.balance(ctx)
	for {
		select {
		case <-ctx.Done():
			w.shutdown()
			w.flushUsage(context.WithoutCancel(ctx))
			return nil
		case <-flush.C:
			w.flushUsage(ctx)
		case <-tick.C:
			w.balance(ctx)
		case <-watch.C:
			w.checkTrust()
		}
	}
}

// Crash stops every shard without releasing leases or leaving the live set,
// as a killed process would (for failover tests).
func (w *Worker) Crash() {
	w.mu.Lock()
	runs := w.shards
	w.shards = map[int]*shardRun{}
	w.mu.Unlock()
	for _, sr := range runs {
		sr.stop()
	}
	metricShards.Sub(float64(len(runs)))
}

func (w *Worker) balance(ctx context.Context) {
	live, err := w.leases.Heartbeat(ctx)
	if errors.Is(err, lease.ErrDuplicateWorker) {
		// Two processes under one id count as one live worker and each
		// aims for every shard: this one stands aside until the id is free.
		w.log.Error("DUPLICATE WORKER ID: another live process heartbeats under this WAGATE_WORKER_ID; this one takes no shards until the id is free. Give every worker a unique id, or leave it empty for host name plus a random suffix", "err", err)
		for _, sr := range w.snapshot() {
			w.release(context.WithoutCancel(ctx), sr)
		}
		w.mu.Lock()
		w.duplicate = true
		w.mu.Unlock()
		return
	}
	if err != nil {
		w.log.Warn("heartbeat failed; leases are kept until their trust window ends", "err", err)
		return
	}
	for _, sr := range w.snapshot() {
		err := w.leases.Renew(ctx, sr.lease)
		switch {
		case errors.Is(err, lease.ErrLost):
			w.lose(sr, "lease taken or expired")
		case err != nil:
			w.log.Warn("lease renewal failed; retrying", "shard", sr.k, "err", err)
		}
	}
	target := lease.Target(w.cfg.Shards, live)
	owned := w.snapshot()
	if len(owned) > target {
		// Release the surplus gracefully; the others pick the shards up.
		for _, sr := range owned[:len(owned)-target] {
			w.release(context.WithoutCancel(ctx), sr)
		}
	}
	if len(owned) < target {
		before := len(owned)
		defer func() {
			if n := w.count(); n != before {
				w.log.Info("shards acquired", "owned", n, "target", target, "live_workers", live)
			}
		}()
		start := rand.IntN(w.cfg.Shards)
		for i := 0; i < w.cfg.Shards && w.count() < target; i++ {
			k := (start + i) % w.cfg.Shards
			if w.has(k) {
				continue
			}
			l, ok, err := w.leases.TryAcquire(ctx, k)
			if err != nil {
				w.log.Warn("lease acquisition failed", "shard", k, "err", err)
				break
			}
			if !ok {
				continue
			}
			if err := w.startShard(ctx, l); err != nil {
				w.log.Error("cannot start shard; releasing its lease", "shard", k, "err", err)
				_ = w.leases.Release(context.WithoutCancel(ctx), l)
			}
		}
	}
	w.mu.Lock()
	w.ready, w.duplicate = true, false
	w.mu.Unlock()
}

func (w *Worker) checkTrust() {
	now := time.Now()
	for _, sr := range w.snapshot() {
		if now.After(sr.lease.TrustedUntil()) {
			w.lose(sr, "lease trust window passed without a renewal")
		}
	}
}

// lose drops a shard whose ownership is no longer certain.
func (w *Worker) lose(sr *shardRun, why string) {
	if !w.remove(sr) {
		return
	}
	metricLeaseLost.Inc()
	w.log.Warn("shard lost: stopping its consumer and sessions", "shard", sr.k, "epoch", sr.epoch, "reason", why)
	sr.stop()
}

func (w *Worker) release(ctx context.Context, sr *shardRun) {
	if !w.remove(sr) {
		return
	}
	w.log.Info("releasing shard", "shard", sr.k)
	sr.stop()
	if err := w.leases.Release(ctx, sr.lease); err != nil {
		w.log.Warn("lease release failed; it will expire", "shard", sr.k, "err", err)
	}
}

func (w *Worker) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, sr := range w.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.release(ctx, sr)
		}()
	}
	wg.Wait()
	_ = w.leases.Leave(ctx)
	w.log.Info("worker stopped; shards handed off")
}

func (w *Worker) snapshot() []*shardRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*shardRun, 0, len(w.shards))
	for _, sr := range w.shards {
		out = append(out, sr)
	}
	return out
}

func (w *Worker) has(k int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.shards[k]
	return ok
}

func (w *Worker) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.shards)
}

func (w *Worker) remove(sr *shardRun) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.shards[sr.k] != sr {
		return false
	}
	delete(w.shards, sr.k)
	metricShards.Dec()
	return true
}

func (w *Worker) add(sr *shardRun) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.shards[sr.k] = sr
	metricShards.Inc()
}
