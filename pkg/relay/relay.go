package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/names"
)

// Defaults of Config.
const (
	DefaultHeartbeat     = 15 * time.Second
	DefaultClientBuffer  = 256
	DefaultWriteTimeout  = 10 * time.Second
	DefaultMaxReplay     = 10_000
	DefaultReplayTimeout = 30 * time.Second
	DefaultReadyTimeout  = 10 * time.Second
	DefaultRetry         = 2 * time.Second
)

// Config configures a Relay. Durations are wall-clock time.
type Config struct {
	// Bus is the NATS connection; the relay reads WA_EVT (required).
	Bus *bus.Bus
	// Redis holds the stream tokens (required).
	Redis *redis.Client
	// Keys builds Redis keys under WAGATE_REDIS_PREFIX.
	Keys names.Redis
	// Store, when set, answers 404 channel_not_found to the admin for a
	// stream of a channel that does not exist.
	Store ChannelFinder
	// Logger receives connection logs (default slog.Default()). Tokens are
	// never logged.
	Logger *slog.Logger
	// Heartbeat is the interval of heartbeats (default 15 s).
	Heartbeat time.Duration
	// ClientBuffer is how many events may wait for one client before it is
	// cut off as slow (default 256).
	ClientBuffer int
	// WriteTimeout bounds one write to a client (default 10 s); a client
	// that does not take it in time is cut off.
	WriteTimeout time.Duration
	// MaxReplay is the most events a resume reads back; a client further
	// behind gets a reset (default 10 000).
	MaxReplay int
	// ReplayTimeout bounds the read-back of a resume (default 30 s).
	ReplayTimeout time.Duration
	// ReadyTimeout is how long a request waits for Run to subscribe before
	// it is answered 503 relay_not_ready (default 10 s).
	ReadyTimeout time.Duration
	// Retry is the reconnect delay suggested to EventSource (default 2 s).
	Retry time.Duration
	// TokenTTL is the lifetime of stream tokens (default 5 min); it matters
	// to the issuer only, the relay trusts Redis's expiry.
	TokenTTL time.Duration
}

// WithDefaults returns c with its zero optional fields set to defaults.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.ClientBuffer <= 0 {
		c.ClientBuffer = DefaultClientBuffer
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxReplay <= 0 {
		c.MaxReplay = DefaultMaxReplay
	}
	if c.ReplayTimeout <= 0 {
		c.ReplayTimeout = DefaultReplayTimeout
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.Retry <= 0 {
		c.Retry = DefaultRetry
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Bus == nil {
		errs = append(errs, errors.New("relay: Config.Bus is required"))
	}
	if c.Redis == nil {
		errs = append(errs, errors.New("relay: Config.Redis is required"))
	}
	return errors.Join(errs...)
}

// Relay streams events to browsers. Mount its routes, then Run it; routes
// answer once Run has subscribed.
type Relay struct {
	cfg    Config
	log    *slog.Logger
	names  names.NATS
	hub    *hub
	tokens *Tokens
	// stopped is closed when Run returns; it ends every stream.
	stopped  chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex
	servers map[*http.Server]chan struct{}
}

// New builds a relay.
func New(cfg Config) (*Relay, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tokens, err := NewTokens(TokensConfig{Redis: cfg.Redis, Keys: cfg.Keys, TTL: cfg.TokenTTL, Store: cfg.Store})
	if err != nil {
		return nil, err
	}
	r := &Relay{
		cfg: cfg, log: cfg.Logger.With("part", "relay"), names: cfg.Bus.Names, tokens: tokens,
		stopped: make(chan struct{}), servers: map[*http.Server]chan struct{}{},
	}
	r.hub = newHub(func(*client) { metricSlowDropped.Inc() })
	return r, nil
}

// Tokens returns the relay's stream-token verifier, which is also an issuer.
func (r *Relay) Tokens() *Tokens { return r.tokens }

// Clients returns how many clients are connected.
func (r *Relay) Clients() int { return r.hub.clients() }

// Run holds the relay's one subscription to WA_EVT and fans events out
// until ctx ends, then ends every stream. A lost subscription is
// re-created after the last event fanned out, so clients miss nothing.
func (r *Relay) Run(ctx context.Context) error {
	defer r.stopOnce.Do(func() { close(r.stopped) })
	for {
		err := r.subscribe(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("event subscription ended; subscribing again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (r *Relay) subscribe(ctx context.Context) error {
	name := r.names.EvtStream()
	st, err := r.cfg.Bus.JS.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("relay: look up stream %s: %w", name, err)
	}
	start := max(r.hub.head.Load(), st.CachedInfo().State.LastSeq)
	cons, err := r.cfg.Bus.JS.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{r.names.EvtAll()},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       start + 1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return fmt.Errorf("relay: create consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("relay: consume: %w", err)
	}
	defer it.Stop()
	r.hub.start(start)
	r.log.Info("relaying events", "stream", name, "after_seq", start)
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		r.fanOut(msg)
	}
}

func (r *Relay) fanOut(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		r.log.Warn("event without metadata skipped", "subject", msg.Subject(), "err", err)
		return
	}
	metricLag.Observe(time.Since(meta.Timestamp).Seconds())
	metricPending.Set(float64(meta.NumPending))
	f, ok := r.frame(meta.Sequence.Stream, msg)
	if !ok {
		// Still advance the head, so heartbeats move positions past it.
		r.hub.publish(frame{seq: meta.Sequence.Stream})
		return
	}
	r.hub.publish(f)
}

// frame encodes a stored event; ok is false (and the event logged) when
// its subject or body is malformed.
func (r *Relay) frame(seq uint64, msg jetstream.Msg) (frame, bool) {
	channel, _, err := r.names.ParseEvt(msg.Subject())
	if err != nil {
		r.log.Warn("event on an unexpected subject skipped", "seq", seq, "subject", msg.Subject())
		return frame{}, false
	}
	f, ok := newFrame(seq, channel, msg.Data())
	if !ok {
		r.log.Warn("event that is not JSON skipped", "seq", seq, "channel_id", channel)
	}
	return f, ok
}

// errTooFar ends a replay that would exceed MaxReplay events.
var errTooFar = errors.New("relay: resume point too far behind")

// replay reads the events of channel ("" for all) with sequences in
// [from, to] from WA_EVT and passes them to emit in order.
func (r *Relay) replay(ctx context.Context, channel string, from, to uint64, emit func(frame) error) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ReplayTimeout)
	defer cancel()
	filter := r.names.EvtAll()
	if channel != "" {
		filter = r.names.EvtChannel(channel)
	}
	stream := r.names.EvtStream()
	cons, err := r.cfg.Bus.JS.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{
		FilterSubject:     filter,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
	})
	if err != nil {
		return 0, fmt.Errorf("relay: create replay consumer: %w", err)
	}
	defer func() {
		// The server would drop it after InactiveThreshold anyway; deleting
		// it now keeps reconnect storms from piling consumers up.
		name := cons.CachedInfo().Name
		go func() {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = r.cfg.Bus.JS.DeleteConsumer(dctx, stream, name)
		}()
	}()
	pending := cons.CachedInfo().NumPending
	if pending == 0 {
		return 0, nil
	}
	if pending > uint64(r.cfg.MaxReplay) && to-from >= uint64(r.cfg.MaxReplay) {
		return 0, errTooFar
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(min(256, int(pending))))
	if err != nil {
		return 0, fmt.Errorf("relay: read replay: %w", err)
	}
	defer it.Stop()
	n := 0
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return n, fmt.Errorf("relay: read replay: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return n, fmt.Errorf("relay: read replay: %w", err)
		}
		seq := meta.Sequence.Stream
		if seq > to {
			return n, nil
		}
		if f, ok := r.frame(seq, msg); ok {
			if err := emit(f); err != nil {
				return n, err
			}
			n++
			if n > r.cfg.MaxReplay {
				return n, errTooFar
			}
		}
		if seq >= to || meta.NumPending == 0 {
			return n, nil
		}
	}
}
