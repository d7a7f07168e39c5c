package httpapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nats-io/nats.go"

	"github.com/wagate/wagate/pkg/store"
)

// ChannelSource finds a live channel by id: the store itself, or a
// ChannelCache in front of it.
type ChannelSource interface {
	Channel(ctx context.Context, id string) (*store.Channel, error)
}

// DefaultChannelTTL is how long a ChannelCache keeps a row.
const DefaultChannelTTL = time.Second

// ChannelCache keeps channel rows for a short while, for the hot paths
// that need a channel's token, settings and existence but not its
// connection state: the bearer-token check of channel tokens and the send
// route. A send then costs no channel lookup when the channel sent a
// moment ago.
//
// Staleness is bounded twice: a row is dropped after the TTL, and at once
// when this process or another one announces a change of the channel on
// names.ChannelsChanged (Forget and Announce). Rows it hands out are
// shared: callers must not modify them.
type ChannelCache struct {
	st  *store.Store
	ttl time.Duration

	mu sync.Mutex
	m  map[string]cachedChannel
	// gen increases on every Forget, so a lookup that raced with a change
	// does not store the row it read before the change.
	gen uint64
}

type cachedChannel struct {
	ch *store.Channel
	at time.Time
}

// maxCachedChannels bounds the cache; past it, it starts over.
const maxCachedChannels = 100_000

// NewChannelCache returns a cache in front of st; ttl ≤ 0 means
// DefaultChannelTTL.
func NewChannelCache(st *store.Store, ttl time.Duration) *ChannelCache {
	if ttl <= 0 {
		ttl = DefaultChannelTTL
	}
	return &ChannelCache{st: st, ttl: ttl, m: map[string]cachedChannel{}}
}

// Channel returns the live channel id, from the cache when it is fresh.
// An unknown channel is not cached, so a channel created a moment ago is
// found at once.
func (c *ChannelCache) Channel(ctx context.Context, id string) (*store.Channel, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.ch, nil
	}
	ch, err := c.st.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= maxCachedChannels {
			c.m = map[string]cachedChannel{}
		}
		c.m[id] = cachedChannel{ch: ch, at: now}
	}
	c.mu.Unlock()
	return ch, nil
}

// ChannelTokenHashes implements TokenHashes from the cache.
func (c *ChannelCache) ChannelTokenHashes(ctx context.Context, id string) (store.TokenHashes, bool, error) {
	ch, err := c.Channel(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.TokenHashes{}, false, nil
	}
	if err != nil {
		return store.TokenHashes{}, false, err
	}
	return ch.Tokens(), true, nil
}

// Forget drops a channel's row; an empty id drops every row.
func (c *ChannelCache) Forget(id string) {
	c.mu.Lock()
	c.gen++
	if id == "" {
		c.m = map[string]cachedChannel{}
	} else {
		delete(c.m, id)
	}
	c.mu.Unlock()
}

// Listen forgets the channels announced on subject (names.ChannelsChanged)
// by any process, until the subscription is drained or the connection
// closes. The announcement's payload is the channel id; an empty one means
// every channel.
func (c *ChannelCache) Listen(nc *nats.Conn, subject string) (*nats.Subscription, error) {
	return nc.Subscribe(subject, func(m *nats.Msg) { c.Forget(string(m.Data)) })
}

// Announce tells every ChannelCache, this process's included, that a
// channel changed. The announcement is core NATS (not stored): a cache
// that misses it catches up within its TTL.
func Announce(nc *nats.Conn, subject, channelID string, local *ChannelCache) {
	if local != nil {
		local.Forget(channelID)
	}
	if nc != nil {
		_ = nc.Publish(subject, []byte(channelID))
	}
}

// LoadChannelFrom is LoadChannel with another source of channels, such as
// a ChannelCache for routes that do not read the connection state.
func LoadChannelFrom(src ChannelSource) gin.HandlerFunc {
	return func(c *gin.Context) {
		ch, err := src.Channel(c.Request.Context(), c.Param("id"))
		if errors.Is(err, store.ErrNotFound) {
			Abort(c, ErrChannelNF)
			return
		}
		if err != nil {
			Abort(c, err)
			return
		}
		c.Set(channelKey, ch)
		c.Next()
	}
}
