package worker

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/store"
)

// The outbox (see doc.go): an event announcing a state change is written
// in the change's transaction, published after the commit with its id as
// Nats-Msg-Id, and deleted once WA_EVT acknowledged it. The shard's owner
// relays what is left: everything when it takes the shard (before its
// channels resume, so a channel's events keep their order), and every
// SweepEvery the events older than SweepEvery (a publish that failed).
// JetStream drops a republished event within WA_EVT's duplicate window.

var (
	metricRelayed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_worker_outbox_relayed_total", Help: "Events published from the outbox by the relay (left unpublished by a crash or a failed publish).",
	})
	metricSwept = promauto.NewCounter(prometheus.CounterOpts{
		Name: "wagate_worker_swept_channels_total", Help: "Channels woken by the sweep of queued messages whose wake-up was lost.",
	})
)

// relayPage bounds the events one relay statement reads.
const relayPage = 512

// outboxEvent builds an event of the channel for the outbox.
func (c *channelRun) outboxEvent(typ string, data any) (store.OutboxEvent, error) {
	ev, err := event.New(typ, c.id, c.sr.epoch, time.Now(), data)
	return store.OutboxEvent{Shard: c.sr.k, Event: ev}, err
}

// published publishes events whose state change committed and deletes
// them from the outbox once acknowledged. A failure leaves them for the
// relay.
func (w *Worker) published(ctx context.Context, evs []event.Envelope) {
	if len(evs) == 0 {
		return
	}
	if h := w.beforePublish.Load(); h != nil && !(*h)(evs) {
		return
	}
	if err := w.cfg.Bus.PublishEvents(ctx, evs); err != nil {
		w.log.Warn("cannot publish events; the outbox relay publishes them", "events", len(evs), "err", err)
		return
	}
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	w.acked.add(w, ids)
}

// ackedEvents are events WA_EVT acknowledged, deleted from the outbox in
// batches by one goroutine that runs while there are any.
type ackedEvents struct {
	mu      sync.Mutex
	ids     []string
	running bool
}

func (a *ackedEvents) add(w *Worker, ids []string) {
	a.mu.Lock()
	a.ids = append(a.ids, ids...)
	start := !a.running
	a.running = true
	a.mu.Unlock()
	if start {
		go a.delete(w)
	}
}

func (a *ackedEvents) delete(w *Worker) {
	for {
		a.mu.Lock()
		ids := a.ids
		a.ids = nil
		if len(ids) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), advanceTimeout)
		if err := w.cfg.Store.DeletePublished(ctx, ids); err != nil {
			// They stay in the outbox: the relay publishes them again and
			// WA_EVT drops the duplicates.
			w.log.Warn("cannot delete published events from the outbox", "events", len(ids), "err", err)
		}
		cancel()
	}
}

// relay publishes the shard's outbox events older than minAge, oldest
// first, and deletes them; it stops at the first failure.
func (sr *shardRun) relay(ctx context.Context, minAge time.Duration) error {
	w := sr.w
	var after int64
	for {
		page, err := w.cfg.Store.UnpublishedEvents(ctx, sr.k, minAge, after, relayPage)
		if err != nil || len(page) == 0 {
			return err
		}
		evs := make([]event.Envelope, len(page))
		ids := make([]string, len(page))
		for i, u := range page {
			evs[i], ids[i] = u.Event, u.Event.ID
			after = u.Seq
		}
		if err := w.cfg.Bus.PublishEvents(ctx, evs); err != nil {
			return err
		}
		metricRelayed.Add(float64(len(evs)))
		sr.log.Info("relayed unpublished events from the outbox", "events", len(evs))
		if err := w.cfg.Store.DeletePublished(ctx, ids); err != nil {
			return err
		}
		if len(page) < relayPage {
			return nil
		}
	}
}

// maintain runs while the shard is owned: every SweepEvery it relays the
// outbox and wakes the channels whose queued messages lost their wake-up.
func (sr *shardRun) maintain() {
	cfg := sr.w.cfg
	t := time.NewTicker(cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-sr.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(sr.ctx, cfg.SweepEvery+advanceTimeout)
		if err := sr.relay(ctx, cfg.SweepEvery); err != nil && sr.ctx.Err() == nil {
			sr.log.Warn("outbox relay failed; retrying", "err", err)
		}
		sr.sweep(ctx)
		sr.sweepMedia(ctx)
		cancel()
	}
}

// sweep wakes the channels of the shard with a message queued for longer
// than StaleQueued whose pump is idle: the wake-up of the send was lost
// (an API that died between commit and publish).
func (sr *shardRun) sweep(ctx context.Context) {
	chans, err := sr.w.cfg.Store.StaleQueued(ctx, sr.k, sr.w.cfg.StaleQueued)
	if err != nil {
		if sr.ctx.Err() == nil {
			sr.log.Warn("sweep of queued messages failed; retrying", "err", err)
		}
		return
	}
	for _, id := range chans {
		if sr.channel(id).wake() {
			metricSwept.Inc()
			sr.log.Info("queued messages without a wake-up: pumping the channel", "channel_id", id)
		}
	}
}

// wake schedules a pump turn unless one is scheduled or queued already,
// and reports whether it did.
func (c *channelRun) wake() bool {
	c.mu.Lock()
	idle := !c.pumpQueued && c.pumpTimer == nil
	c.mu.Unlock()
	if idle {
		c.pumpSoon()
	}
	return idle
}
