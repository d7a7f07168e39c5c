package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/netproxy"
	"github.com/wagate/wagate/pkg/session"
)

// Name is the driver's name in configuration (WAGATE_DRIVER=sim).
const Name = "sim"

// refreshBatch bounds the commands of one pipeline of marker refreshes.
const refreshBatch = 1000

// Driver is the simulator's session.Driver. It is safe for concurrent use;
// one Driver serves every session of a process.
type Driver struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
	// live holds the sessions whose connection holds a marker, by
	// connection id; the refresh loop runs while it is not empty.
	live    map[string]liveConn
	looping bool
	wake    chan struct{}
	// refreshing is held by a refresh from its snapshot of live to its
	// last script, and by every release: a refresh whose snapshot still
	// held a connection that closed meanwhile would otherwise re-create
	// the marker the close had just deleted (the script re-sets a missing
	// marker). Lock order: refreshing, then a Session's mu, then mu.
	refreshing sync.Mutex
}

// liveConn is a connection whose marker the Driver refreshes.
type liveConn struct {
	key  string // names.Redis.SimConn(jid)
	conn string
	s    *Session
}

var _ session.Driver = (*Driver)(nil)

// New returns a Driver; it starts no goroutine until a session goes live.
func New(cfg Config) (*Driver, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Driver{
		cfg:  cfg,
		log:  cfg.Logger.With("driver", Name),
		live: make(map[string]liveConn),
		wake: make(chan struct{}, 1),
	}, nil
}

// Name returns "sim".
func (d *Driver) Name() string { return Name }

// Open returns the session of o.ChannelID, offline. The session also
// implements Controller.
func (d *Driver) Open(_ context.Context, o session.Options) (session.Session, error) {
	if o.ChannelID == "" || o.Sink == nil {
		return nil, fmt.Errorf("%w: sim: open needs a channel id and a sink", session.ErrInvalid)
	}
	var (
		proxy    *url.URL
		proxyErr error
	)
	if o.Proxy != "" {
		proxy, proxyErr = netproxy.Parse(o.Proxy)
	}
	return &Session{
		d:         d,
		channelID: o.ChannelID,
		jid:       o.JID,
		sink:      o.Sink,
		messages:  o.Messages,
		proxy:     proxy,
		proxyErr:  proxyErr,
		log:       d.log.With("channel_id", o.ChannelID),
	}, nil
}

var (
	// refreshScript extends a marker held by ARGV[1]. It returns 1 when
	// extended, 2 when the marker had expired and was set again, 0 when
	// another connection holds it: this one was replaced.
	refreshScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return 2
end
return 0`)
	// releaseScript deletes a marker only while ARGV[1] holds it.
	releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)
)

// acquire marks connection conn of jid live. A marker held by another
// connection means the device is connected twice at once: the Driver
// counts it, logs it, and replaces the older connection at once when this
// Driver holds it (another Driver notices at its next refresh).
func (d *Driver) acquire(ctx context.Context, channelID, jid, conn string) error {
	key := d.cfg.Keys.SimConn(jid)
	old, err := d.cfg.Redis.SetArgs(ctx, key, conn, redis.SetArgs{TTL: d.cfg.PresenceTTL, Get: true}).Result()
	if errors.Is(err, redis.Nil) || (err == nil && old == conn) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sim: mark connection of %s live: %w", jid, err)
	}
	n, err := d.cfg.Redis.Incr(ctx, d.cfg.Keys.SimDoubleConnections()).Result()
	if err != nil {
		d.log.Error("sim: count a double connection", "jid", jid, "err", err)
	}
	d.log.Error("sim: device connected twice at once; the older connection is replaced",
		"channel_id", channelID, "jid", jid, "conn", conn, "older_conn", old, "double_connections", n)
	d.mu.Lock()
	lc, here := d.live[old]
	d.mu.Unlock()
	if here {
		lc.s.replaced(old)
	}
	return nil
}

// release deletes the marker of m if m still holds it.
func (d *Driver) release(ctx context.Context, m marker) {
	if m.conn == "" || m.jid == "" {
		return
	}
	d.refreshing.Lock()
	defer d.refreshing.Unlock()
	if err := releaseScript.Run(ctx, d.cfg.Redis, []string{d.cfg.Keys.SimConn(m.jid)}, m.conn).Err(); err != nil {
		d.log.Warn("sim: release connection marker; it expires by itself", "jid", m.jid, "err", err)
	}
}

// releaseDetached is release for callers without a context.
func (d *Driver) releaseDetached(m marker) {
	if m.conn == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.PresenceTTL)
	defer cancel()
	d.release(ctx, m)
}

// register adds a live connection to the refresh loop, starting the loop
// if it is not running. Called with s.mu held.
func (d *Driver) register(s *Session, jid, conn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.live[conn] = liveConn{key: d.cfg.Keys.SimConn(jid), conn: conn, s: s}
	if !d.looping {
		d.looping = true
		go d.refreshLoop()
	}
}

// unregister removes a connection from the refresh loop; the loop ends
// when none is left. Called with s.mu held.
func (d *Driver) unregister(conn string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.live, conn)
	if len(d.live) == 0 {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// refreshLoop extends the markers of every live connection of the Driver
// every PresenceTTL/3, in pipelines, until no connection is left.
func (d *Driver) refreshLoop() {
	t := time.NewTicker(d.cfg.PresenceTTL / 3)
	defer t.Stop()
	var buf []liveConn
	for {
		select {
		case <-t.C:
		case <-d.wake:
		}
		d.refreshing.Lock()
		d.mu.Lock()
		if len(d.live) == 0 {
			d.looping = false
			d.mu.Unlock()
			d.refreshing.Unlock()
			return
		}
		buf = buf[:0]
		for _, lc := range d.live {
			buf = append(buf, lc)
		}
		d.mu.Unlock()
		d.refresh(buf)
		d.refreshing.Unlock()
	}
}

func (d *Driver) refresh(conns []liveConn) {
	ttl := strconv.FormatInt(d.cfg.PresenceTTL.Milliseconds(), 10)
	for start := 0; start < len(conns); start += refreshBatch {
		part := conns[start:min(start+refreshBatch, len(conns))]
		// Each batch has its own deadline: on a slow Redis the batches
		// after the first are late rather than skipped.
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.PresenceTTL/3)
		cmds, err := d.refreshPipeline(ctx, part, ttl)
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err = refreshScript.Load(ctx, d.cfg.Redis).Err(); err == nil {
				cmds, err = d.refreshPipeline(ctx, part, ttl)
			}
		}
		cancel()
		if err != nil {
			d.log.Warn("sim: refresh connection markers", "connections", len(part), "err", err)
		}
		for i, cmd := range cmds {
			switch v, err := cmd.Int64(); {
			case err != nil:
			case v == 0:
				d.log.Warn("sim: another connection of the device took over", "channel_id", part[i].s.channelID, "conn", part[i].conn)
				part[i].s.replaced(part[i].conn)
			case v == 2:
				d.log.Warn("sim: connection marker had expired: the refresh loop stalled for longer than PresenceTTL",
					"channel_id", part[i].s.channelID, "conn", part[i].conn)
			}
		}
	}
}

func (d *Driver) refreshPipeline(ctx context.Context, part []liveConn, ttl string) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(part))
	_, err := d.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, lc := range part {
			cmds[i] = refreshScript.EvalSha(ctx, p, []string{lc.key}, lc.conn, ttl)
		}
		return nil
	})
	return cmds, err
}

// DoubleConnections returns how many times a simulated device was found
// connected twice at once, across every process sharing the Redis of keys.
// A correct fleet keeps it at zero.
func DoubleConnections(ctx context.Context, rdb redis.Cmdable, keys names.Redis) (int64, error) {
	n, err := rdb.Get(ctx, keys.SimDoubleConnections()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sim: read double connections: %w", err)
	}
	return n, nil
}

// Deliveries returns how many times the message of wagate id msgID reached
// a simulated phone. A correct fleet never goes beyond one.
func Deliveries(ctx context.Context, rdb redis.Cmdable, keys names.Redis, msgID string) (int64, error) {
	n, err := rdb.HGet(ctx, keys.SimDeliveries(), msgID).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sim: read deliveries of %s: %w", msgID, err)
	}
	return n, nil
}
