package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/lease"
	"github.com/wagate/wagate/pkg/store"
)

// shardRun is one owned shard: its lease, epoch, consumer and channels.
type shardRun struct {
	w     *Worker
	k     int
	lease *lease.Lease
	epoch int64
	log   *slog.Logger

	ctx    context.Context // cancelled when the shard stops
	cancel context.CancelFunc
	cc     jetstream.ConsumeContext

	mu       sync.Mutex
	channels map[string]*channelRun
	wg       sync.WaitGroup // mailbox goroutines
	requests shardRequests  // wa.rpc requests (rpc.go)
}

func (w *Worker) startShard(ctx context.Context, l *lease.Lease) error {
	epoch, err := w.cfg.Store.TakeEpoch(ctx, l.Shard, w.cfg.ID)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sr := &shardRun{
		w: w, k: l.Shard, lease: l, epoch: epoch, ctx: sctx, cancel: cancel,
		log:      w.log.With("shard", l.Shard, "epoch", epoch),
		channels: map[string]*channelRun{},
	}
	n := w.cfg.Bus.Names
	cons, err := w.cfg.Bus.JS.CreateOrUpdateConsumer(ctx, n.CmdStream(), jetstream.ConsumerConfig{
		Durable:       n.CmdConsumer(l.Shard),
		Description:   fmt.Sprintf("commands of shard %d, bound by its lease holder", l.Shard),
		FilterSubject: n.CmdShardFilter(l.Shard),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       w.cfg.AckWait,
		MaxAckPending: 4096,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		cancel()
		return fmt.Errorf("worker: consumer of shard %d: %w", l.Shard, err)
	}
	// Publish what the previous owner left in the outbox before any
	// channel of the shard runs, so a channel's events keep their order;
	// what fails here is relayed by maintain.
	rctx, rcancel := context.WithTimeout(ctx, advanceTimeout)
	if err := sr.relay(rctx, 0); err != nil {
		sr.log.Warn("cannot relay the outbox of the previous owner yet; retrying", "err", err)
	}
	rcancel()
	// Resume before consuming, so a redelivered start finds the channel running.
	chans, err := w.cfg.Store.ShardChannels(ctx, l.Shard)
	if err != nil {
		cancel()
		return err
	}
	w.add(sr)
	for _, c := range chans {
		cr := sr.channel(c.ID)
		delay := time.Duration(rand.Int64N(int64(w.cfg.ResumeSpread)))
		cr.after(delay, job{internal: jobResume})
	}
	cc, err := cons.Consume(sr.onCommand, jetstream.PullMaxMessages(256))
	if err != nil {
		w.remove(sr)
		sr.stop()
		return fmt.Errorf("worker: consume shard %d: %w", l.Shard, err)
	}
	sr.mu.Lock()
	sr.cc = cc
	sr.mu.Unlock()
	if err := sr.subscribeRequests(); err != nil {
		w.remove(sr)
		sr.stop()
		return err
	}
	sr.wg.Add(1)
	go func() {
		defer sr.wg.Done()
		sr.maintain()
	}()
	sr.log.Debug("shard acquired", "resuming", len(chans))
	return nil
}

// onCommand routes one command to its channel's mailbox.
func (sr *shardRun) onCommand(msg jetstream.Msg) {
	k, channelID, verb, err := sr.w.cfg.Bus.Names.ParseCmdStored(msg.Subject())
	if err != nil || k != sr.k {
		reason := "the subject is not wa.cmd.<channel>.<verb>"
		if err == nil {
			reason = "the subject's shard is not the shard of its channel"
		}
		sr.w.failCommand(sr.ctx, sr.epoch, msg, "", verb, CommandFailed{Code: CodeMalformedSubject, Reason: reason})
		return
	}
	if sr.ctx.Err() != nil {
		return // stopping: leave it unacknowledged for the next owner
	}
	cr := sr.channel(channelID)
	if !cr.enqueueCommand(verb, msg) {
		metricCommands.WithLabelValues(verbLabel(verb), "mailbox_full").Inc()
		_ = msg.NakWithDelay(time.Second)
	}
}

// channel returns the runtime of a channel, creating it.
func (sr *shardRun) channel(id string) *channelRun {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	cr, ok := sr.channels[id]
	if !ok {
		cr = newChannelRun(sr, id)
		sr.channels[id] = cr
	}
	return cr
}

func (sr *shardRun) forget(id string) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	delete(sr.channels, id)
}

func (sr *shardRun) fence() store.Fence {
	return store.Fence{Shard: sr.k, Epoch: sr.epoch, Worker: sr.w.cfg.ID}
}

// stop ends the shard: the consumer stops, session contexts are cancelled
// at once, then mailboxes disconnect their sessions and exit.
func (sr *shardRun) stop() {
	sr.cancel()
	sr.mu.Lock()
	cc := sr.cc
	chans := make([]*channelRun, 0, len(sr.channels))
	for _, cr := range sr.channels {
		chans = append(chans, cr)
	}
	sr.mu.Unlock()
	if cc != nil {
		cc.Stop()
	}
	sr.unsubscribeRequests()
	for _, cr := range chans {
		cr.kick()
	}
	done := make(chan struct{})
	go func() { sr.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		sr.log.Warn("mailboxes still busy 5s after the shard stopped")
	}
	sr.log.Debug("shard stopped")
}

// lost is called from a mailbox when a write was refused for a stale epoch.
func (sr *shardRun) lost(why string) {
	go sr.w.lose(sr, why)
}
