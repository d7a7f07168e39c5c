package messaging

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/store"
)

// depthTTL is how long a counted queue depth is reused. Counting a deep
// queue on every send would cost O(depth) per request; the bound is soft
// anyway (concurrent API replicas each see their own count).
const depthTTL = 250 * time.Millisecond

// depthCache remembers each channel's queue depth briefly, adding the
// sends this process accepted since it counted.
type depthCache struct {
	mu sync.Mutex
	m  map[string]depthEntry
}

type depthEntry struct {
	n  int
	at time.Time
}

func (d *depthCache) get(ctx context.Context, st *store.Store, channel string) (int, error) {
	now := time.Now()
	d.mu.Lock()
	e, ok := d.m[channel]
	d.mu.Unlock()
	if ok && now.Sub(e.at) < depthTTL {
		return e.n, nil
	}
	n, err := st.QueueDepth(ctx, channel)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) > 100_000 {
		d.m = map[string]depthEntry{}
	}
	d.m[channel] = depthEntry{n: n, at: now}
	d.mu.Unlock()
	return n, nil
}

func (d *depthCache) add(channel string) {
	d.mu.Lock()
	if e, ok := d.m[channel]; ok {
		e.n++
		d.m[channel] = e
	}
	d.mu.Unlock()
}
