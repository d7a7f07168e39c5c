package webhook

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// cache holds every endpoint in memory so the fan-out does not query
// Postgres per event. It reloads when older than its TTL, when marked
// stale: on an announcement on names.WebhooksChanged, and when a delivery
// names an endpoint it does not know (the dispatcher then reads that one
// endpoint from Postgres).
//
// Endpoints in the cache are never modified; a reload replaces them. The
// failure streak moves faster than reloads, so the backoff this
// dispatcher learns from its own attempts is kept beside them until the
// next reload brings the shared value.
type cache struct {
	load func(ctx context.Context) ([]*Endpoint, error)
	ttl  time.Duration

	reloadMu sync.Mutex // one reload at a time
	// staleSince is when the cache was last marked stale (Unix ns; 0: not
	// stale): a reload that started after it has seen the change.
	staleSince atomic.Int64

	mu        sync.RWMutex
	byID      map[string]*Endpoint
	byChannel map[string][]*Endpoint // enabled only; "" holds the admin-level ones
	loadedAt  time.Time
	backoff   map[string]time.Time // endpoint → backoff learnt since the load (zero: cleared)
}

func newCache(ttl time.Duration, load func(ctx context.Context) ([]*Endpoint, error)) *cache {
	return &cache{load: load, ttl: ttl, byID: map[string]*Endpoint{}, byChannel: map[string][]*Endpoint{}, backoff: map[string]time.Time{}}
}

func (c *cache) markStale() { c.staleSince.Store(time.Now().UnixNano()) }

// reload loads every endpoint unless a load started after since.
//
// The stale mark is cleared only once the load is installed: a refresh
// meanwhile waits for this load (on reloadMu, then finds it fresh) rather
// than take the old endpoints for current. A mark made during the load
// stays, for the load may have missed that change.
func (c *cache) reload(ctx context.Context, since time.Time) error {
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	c.mu.RLock()
	fresh := c.loadedAt.After(since)
	c.mu.RUnlock()
	if fresh {
		c.staleSince.CompareAndSwap(since.UnixNano(), 0)
		return nil
	}
	stale := c.staleSince.Load()
	start := time.Now()
	list, err := c.load(ctx)
	if err != nil {
		c.staleSince.CompareAndSwap(0, start.UnixNano())
		return err
	}
	byID := make(map[string]*Endpoint, len(list))
	byChannel := map[string][]*Endpoint{}
	for _, e := range list {
		byID[e.ID] = e
		if e.Enabled {
			byChannel[e.ChannelID] = append(byChannel[e.ChannelID], e)
		}
	}
	c.mu.Lock()
	c.byID, c.byChannel, c.loadedAt, c.backoff = byID, byChannel, start, map[string]time.Time{}
	c.staleSince.CompareAndSwap(stale, 0)
	c.mu.Unlock()
	return nil
}

// refresh reloads when the cache is stale or older than its TTL.
func (c *cache) refresh(ctx context.Context) error {
	if ns := c.staleSince.Load(); ns != 0 {
		return c.reload(ctx, time.Unix(0, ns))
	}
	c.mu.RLock()
	old := time.Since(c.loadedAt) > c.ttl
	c.mu.RUnlock()
	if !old {
		return nil
	}
	return c.reload(ctx, time.Now().Add(-c.ttl))
}

// get returns endpoint id from memory, or nil.
func (c *cache) get(id string) *Endpoint {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byID[id]
}

// matching returns the enabled endpoints that receive an event of typ on
// channel: the channel's own and the admin-level ones.
func (c *cache) matching(channel, typ string) []*Endpoint {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Endpoint
	for _, key := range []string{channel, ""} {
		for _, e := range c.byChannel[key] {
			if matches(e.Events, typ) {
				out = append(out, e)
			}
		}
	}
	return out
}

// backoffUntil returns until when e is not to be attempted (zero: now).
func (c *cache) backoffUntil(e *Endpoint) time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t, ok := c.backoff[e.ID]; ok {
		return t
	}
	if e.BackoffUntil != nil {
		return *e.BackoffUntil
	}
	return time.Time{}
}

// setBackoff records the backoff of id learnt from an attempt.
func (c *cache) setBackoff(id string, until time.Time) {
	c.mu.Lock()
	c.backoff[id] = until
	c.mu.Unlock()
}
