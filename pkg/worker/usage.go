package worker

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/store"
)

// usageFlushEvery is how often counted usage is written to Postgres. Usage
// is a report, not a ledger: batching the counters of every channel into
// one round trip per second takes three commits off every message, at the
// price of losing up to a second of counts when a worker is killed.
const usageFlushEvery = time.Second

// usageBuffer accumulates usage counters until the next flush.
type usageBuffer struct {
	mu sync.Mutex
	m  map[store.UsageDelta]int
}

func (u *usageBuffer) add(channel, counter string, at time.Time) {
	k := store.UsageDelta{ChannelID: channel, Counter: counter, Day: at.UTC().Format(time.DateOnly)}
	u.mu.Lock()
	if u.m == nil {
		u.m = map[store.UsageDelta]int{}
	}
	u.m[k]++
	u.mu.Unlock()
}

func (u *usageBuffer) take() map[store.UsageDelta]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.m
	u.m = nil
	return m
}

// flushUsage writes the buffered counters; on failure they are kept for
// the next flush.
func (w *Worker) flushUsage(ctx context.Context) {
	m := w.usage.take()
	if len(m) == 0 {
		return
	}
	if err := w.cfg.Store.AddUsage(ctx, m); err != nil {
		w.log.Warn("cannot write usage counters; keeping them for the next flush", "err", err)
		w.usage.mu.Lock()
		if w.usage.m == nil {
			w.usage.m = map[store.UsageDelta]int{}
		}
		for k, n := range m {
			w.usage.m[k] += n
		}
		w.usage.mu.Unlock()
	}
}
