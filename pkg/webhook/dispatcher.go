package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/store"
)

// Intervals of the dispatcher's housekeeping.
const (
	fetchWait      = time.Second      // longest wait of one pull from NATS
	depthInterval  = 10 * time.Second // queue-depth gauge and sweep of disabled endpoints
	pruneInterval  = time.Hour        // deletion of delivered rows past Retention
	dbTimeout      = 10 * time.Second // bound of one write of an attempt's result
	publishTimeout = 10 * time.Second // bound of the PubAck of a fanned-out delivery
	// infraRetry delays the redelivery of a message that failed for want of
	// Postgres or NATS, so an outage does not spin. It is not the retry
	// schedule: that lives in Postgres.
	infraRetry = time.Second
	// pullPause is how long the pull loop waits, when the queues in memory
	// are full, before it looks again.
	pullPause = 5 * time.Millisecond
)

// Dispatcher fans events out into webhook deliveries and delivers them
// (see doc.go for the contract). Any number of dispatchers may run against
// the same Postgres and NATS: they share the durable consumers and claim
// retries with row locks.
type Dispatcher struct {
	cfg    Config
	log    *slog.Logger
	db     db
	names  names.NATS
	cache  *cache
	sender *sender

	// pool holds one token per attempt slot (Config.Concurrency).
	pool chan struct{}
	// slots counts the attempts in flight per endpoint and holds the
	// delivery messages waiting for one of them.
	slots *endpointSlots
	// rec writes attempt results in groups.
	rec *recorder
	// poke wakes the claimer before its next tick.
	poke chan struct{}
	// moreDue is set while Postgres may hold deliveries due now: this
	// dispatcher deferred one for lack of a slot, or its last claim found
	// some, or some endpoint had no free slot to claim into. Then every
	// freed endpoint slot pokes the claimer, so deliveries waiting in
	// Postgres flow as fast as their endpoint answers, not one batch per
	// ClaimInterval.
	moreDue atomic.Bool

	// changes receives the announcements of names.WebhooksChanged. It is a
	// channel, not a callback, so that draining it before handling a
	// message sees every announcement that reached this connection before
	// the message: a change made through the API applies to every event
	// published after the API answered.
	changes chan *nats.Msg

	inflight inflight
	attempts sync.WaitGroup
	// attemptCtx ends only when Run abandons attempts at shutdown.
	attemptCtx context.Context
}

// NewDispatcher checks cfg and returns a dispatcher; Run starts it.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Dispatcher{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "webhook"),
		db:         db{pool: cfg.Store.Pool, box: cfg.Secrets},
		names:      cfg.Bus.Names,
		sender:     newSender(&cfg),
		pool:       make(chan struct{}, cfg.Concurrency),
		slots:      newEndpointSlots(),
		poke:       make(chan struct{}, 1),
		changes:    make(chan *nats.Msg, 256),
		inflight:   inflight{msgs: map[jetstream.Msg]struct{}{}, claimed: map[string]struct{}{}},
		attemptCtx: context.Background(),
	}
	d.cache = newCache(cfg.CacheTTL, d.db.allEndpoints)
	d.rec = newRecorder(d.db, cfg.Owner, &d.cfg, d.log)
	for range cfg.Concurrency {
		d.pool <- struct{}{}
	}
	return d, nil
}

// Run fans out and delivers until ctx ends, then stops taking work, waits
// up to ShutdownGrace for the attempts in flight and returns nil. Work it
// abandons is redelivered (NATS) or re-claimed (Postgres) by a dispatcher.
// A ctx that ends while it starts is not a failure either.
func (d *Dispatcher) Run(ctx context.Context) error {
	err := d.serve(ctx)
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

func (d *Dispatcher) serve(ctx context.Context) error {
	js := d.cfg.Bus.JS
	fan, err := js.CreateOrUpdateConsumer(ctx, d.names.EvtStream(), jetstream.ConsumerConfig{
		Durable:       d.names.WebhookFanoutConsumer(),
		Description:   "webhook fan-out: one delivery message per event and matching endpoint",
		FilterSubject: d.names.EvtAll(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.cfg.AckWait,
		MaxAckPending: 4 * fanoutBatch,
	})
	if err != nil {
		return fmt.Errorf("webhook: fan-out consumer: %w", err)
	}
	del, err := js.CreateOrUpdateConsumer(ctx, d.names.WebhookStream(), jetstream.ConsumerConfig{
		Durable:       d.names.WebhookDeliverConsumer(),
		Description:   "webhook delivery",
		FilterSubject: d.names.WebhookAll(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.cfg.AckWait,
		MaxAckPending: 10000,
	})
	if err != nil {
		return fmt.Errorf("webhook: delivery consumer: %w", err)
	}
	if err := d.cache.reload(ctx, time.Time{}); err != nil {
		return err
	}
	sub, err := d.cfg.Bus.Conn.ChanSubscribe(d.names.WebhooksChanged(), d.changes)
	if err != nil {
		return fmt.Errorf("webhook: subscribe to endpoint changes: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	attemptCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	d.attemptCtx = attemptCtx
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	var hb sync.WaitGroup
	hb.Go(func() { d.heartbeat(hbCtx) })
	hb.Go(d.rec.run)

	var loops sync.WaitGroup
	loops.Go(func() { d.fanout(ctx, fan) })
	loops.Go(func() { d.pull(ctx, del) })
	loops.Go(func() { d.claimLoop(ctx) })
	loops.Go(func() { d.maintain(ctx) })
	loops.Go(func() { d.expireQueued(ctx) })
	d.log.Info("webhook dispatcher running", "owner", d.cfg.Owner, "concurrency", d.cfg.Concurrency,
		"endpoint_concurrency", d.cfg.EndpointConcurrency, "allow_private", d.cfg.AllowPrivate)
	<-ctx.Done()
	loops.Wait()
	// What waits in memory goes back to NATS at once, for any dispatcher.
	for _, w := range d.slots.close() {
		_ = w.m.Nak()
	}

	done := make(chan struct{})
	go func() { d.attempts.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.cfg.ShutdownGrace):
		d.log.Warn("abandoning webhook attempts still in flight; they will be retried", "grace", d.cfg.ShutdownGrace)
		abandon()
		<-done
	}
	d.rec.stop()
	stopHeartbeat()
	hb.Wait()
	d.log.Info("webhook dispatcher stopped")
	return nil
}

// acquire takes one pool token, waiting for it, then up to n-1 more that
// are free; it returns 0 when ctx ends first.
func (d *Dispatcher) acquire(ctx context.Context, n int) int {
	select {
	case <-d.pool:
	case <-ctx.Done():
		return 0
	}
	return 1 + d.tryAcquire(n-1)
}

// tryAcquire takes up to n free pool tokens without waiting.
func (d *Dispatcher) tryAcquire(n int) int {
	got := 0
	for got < n {
		select {
		case <-d.pool:
			got++
		default:
			return got
		}
	}
	return got
}

func (d *Dispatcher) releasePool(n int) {
	for range n {
		d.pool <- struct{}{}
	}
}

// noteChanges drains the change announcements received so far; after
// one, the endpoint cache is stale and the claimer may have work (a replay).
func (d *Dispatcher) noteChanges() {
	for {
		select {
		case <-d.changes:
			d.cache.markStale()
			d.wakeClaimer()
		default:
			return
		}
	}
}

func (d *Dispatcher) wakeClaimer() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// pull takes delivery messages from WA_WEBHOOK, never more than there are
// free attempt slots, and none while queueTotal messages wait in memory
// for their endpoints.
func (d *Dispatcher) pull(ctx context.Context, cons jetstream.Consumer) {
	batchMax := max(1, d.cfg.Concurrency/2) // leave slots to the claimer
	var full time.Time
	for ctx.Err() == nil {
		if !d.slots.hasRoom(batchMax) {
			if full.IsZero() {
				full = time.Now()
			}
			if time.Since(full) < queueStall {
				sleep(ctx, pullPause)
				continue
			}
			d.deferWaiting(d.slots.shed(batchMax), "shedding webhook deliveries waiting in memory")
		}
		full = time.Time{}
		n := d.acquire(ctx, batchMax)
		if n == 0 {
			return
		}
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
		used := 0
		if err == nil {
			for m := range batch.Messages() {
				used++
				d.attempts.Add(1)
				go func() {
					defer d.attempts.Done()
					defer d.releasePool(1)
					d.handle(m)
				}()
			}
			if fctx.Err() == nil {
				err = batch.Error()
			}
		}
		cancel()
		d.releasePool(n - used)
		if err != nil && ctx.Err() == nil {
			d.log.Warn("fetching webhook deliveries", "error", err)
			sleep(ctx, 500*time.Millisecond)
		}
	}
}

// handle processes one message of WA_WEBHOOK; it owns one pool token. It
// acks only once the delivery is delivered or durably recorded in
// Postgres; when Postgres fails it NAKs, and the message comes back after
// infraRetry.
func (d *Dispatcher) handle(m jetstream.Msg) {
	endpointID, err := d.names.ParseWebhook(m.Subject())
	h := m.Headers()
	seq, seqErr := strconv.ParseUint(h.Get(names.HeaderEventSeq), 10, 64)
	if err != nil || seqErr != nil || h.Get(names.HeaderEventID) == "" || h.Get(names.HeaderEventType) == "" {
		d.log.Error("malformed webhook delivery message; dropping it", "subject", m.Subject())
		_ = m.Term()
		return
	}
	j := &job{
		deliveryID: ids.New(ids.Delivery), isNew: true, endpointID: endpointID,
		channelID: h.Get(names.HeaderChannel), eventID: h.Get(names.HeaderEventID),
		eventType: h.Get(names.HeaderEventType), seq: seq, payload: m.Data(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if meta, err := m.Metadata(); err == nil && meta.NumDelivered > 1 {
		// A dispatcher may have recorded it and died before its ack.
		done, err := d.db.recorded(ctx, endpointID, j.eventID)
		if err != nil {
			d.jobLog(j).Warn("checking a redelivered webhook delivery", "error", err)
			_ = m.NakWithDelay(infraRetry)
			return
		}
		if done {
			_ = m.Ack()
			return
		}
	}
	ep := d.admissible(ctx, j, m)
	if ep == nil {
		return
	}
	switch d.slots.admit(endpointID, d.cfg.endpointLimit(ep), waiting{m: m, j: j, at: time.Now()}) {
	case admitStarted:
		d.inflight.addMsg(m)
		d.run(ep, j, m)
	case admitQueued:
		// Started by the holder of the next slot of the endpoint to free.
	default:
		if d.slots.isClosed() {
			_ = m.Nak()
			return
		}
		d.moreDue.Store(true)
		d.deferTo(ctx, j, m, StatusPending, nil, "", metricDeferred)
	}
}

func (d *Dispatcher) jobLog(j *job) *slog.Logger {
	return d.log.With("endpoint_id", j.endpointID, "event_id", j.eventID, "channel_id", j.channelID)
}

// admissible returns the endpoint of the fresh delivery j when it may be
// attempted now. Otherwise it settles m (dropped, dead letter, deferred
// past the endpoint's backoff, or NAKed when Postgres fails) and returns
// nil.
func (d *Dispatcher) admissible(ctx context.Context, j *job, m jetstream.Msg) *Endpoint {
	d.noteChanges()
	if err := d.cache.refresh(ctx); err != nil {
		d.jobLog(j).Warn("reloading webhook endpoints", "error", err)
	}
	ep, err := d.endpoint(ctx, j.endpointID)
	if err != nil {
		d.jobLog(j).Warn("reading webhook endpoint", "error", err)
		_ = m.NakWithDelay(infraRetry)
		return nil
	}
	if ep == nil {
		metricDeliveries.WithLabelValues(metricDropped).Inc()
		_ = m.Ack()
		return nil
	}
	if !ep.Enabled {
		d.deferTo(ctx, j, m, StatusDead, nil, "endpoint disabled: "+ep.DisabledReason, metricDead)
		return nil
	}
	if until := d.cache.backoffUntil(ep); time.Now().Before(until) {
		d.deferTo(ctx, j, m, StatusPending, &until, "", metricDeferred)
		return nil
	}
	return ep
}

// deferTo records the fresh delivery j in Postgres without attempting it,
// then acks m.
func (d *Dispatcher) deferTo(ctx context.Context, j *job, m jetstream.Msg, status string, notBefore *time.Time, reason, metric string) {
	if _, err := d.db.deferJob(ctx, j, status, notBefore, reason); err != nil {
		d.jobLog(j).Warn("recording a webhook delivery", "error", err)
		_ = m.NakWithDelay(infraRetry)
		return
	}
	metricDeliveries.WithLabelValues(metric).Inc()
	_ = m.Ack()
}

// run attempts j, holding one pool token and one slot of ep, then the
// messages queued for ep while they last: each slot that frees takes the
// next of them. m is j's message (nil for a claimed delivery).
func (d *Dispatcher) run(ep *Endpoint, j *job, m jetstream.Msg) {
	for {
		d.attempt(ep, j, m)
		for {
			w, ok := d.slots.next(ep.ID, d.cfg.endpointLimit(d.current(ep)))
			if !ok {
				if d.moreDue.Load() {
					d.wakeClaimer()
				}
				return
			}
			// The endpoint may have changed while the message waited.
			ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
			next := d.admissible(ctx, w.j, w.m)
			cancel()
			if next != nil {
				ep, j, m = next, w.j, w.m
				d.inflight.addMsg(m)
				break
			}
		}
	}
}

// expireQueued defers to Postgres the messages of endpoints that started
// none of them for queueWait: the endpoint is stuck or very slow, and the
// claimer attempts them when its slots free.
func (d *Dispatcher) expireQueued(ctx context.Context) {
	t := time.NewTicker(queueWait / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.deferWaiting(d.slots.stalled(time.Now().Add(-queueWait)), "deferring webhook deliveries of a stalled endpoint")
	}
}

// deferWaiting records messages taken out of the queues in memory as
// pending in Postgres and acks them; when that fails it NAKs them.
func (d *Dispatcher) deferWaiting(ws []waiting, what string) {
	if len(ws) == 0 {
		return
	}
	jobs := make([]*job, len(ws))
	for i, w := range ws {
		jobs[i] = w.j
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	err := d.db.deferJobs(ctx, jobs, nil)
	cancel()
	for _, w := range ws {
		if err != nil {
			_ = w.m.NakWithDelay(infraRetry)
		} else {
			_ = w.m.Ack()
		}
	}
	if err != nil {
		d.log.Warn(what, "count", len(ws), "error", err)
		return
	}
	metricDeliveries.WithLabelValues(metricDeferred).Add(float64(len(ws)))
	d.moreDue.Store(true)
	d.wakeClaimer()
}

// current returns the cached version of ep, which a reload may have
// replaced since ep was read, or ep when the cache no longer has it.
func (d *Dispatcher) current(ep *Endpoint) *Endpoint {
	if c := d.cache.get(ep.ID); c != nil {
		return c
	}
	return ep
}

// endpoint returns an endpoint from the cache, or from Postgres when the
// cache does not know it yet; nil when it does not exist.
func (d *Dispatcher) endpoint(ctx context.Context, id string) (*Endpoint, error) {
	if ep := d.cache.get(id); ep != nil {
		return ep, nil
	}
	ep, err := d.db.endpointByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d.cache.markStale()
	return ep, nil
}

// attempt delivers j to ep once and has the result recorded. m is the
// NATS message of a fresh delivery (nil for one claimed from Postgres): it
// is acked after the result is recorded. A 2xx returns at once, its
// record written in the background (the slot serves the next delivery
// meanwhile); any other result waits for its record, whose backoff the
// next attempt to ep must see.
func (d *Dispatcher) attempt(ep *Endpoint, j *job, m jetstream.Msg) {
	r := d.sender.send(d.attemptCtx, ep, j)
	if r.aborted {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		d.untrack(j, m)
		if m != nil {
			_ = m.Nak()
		} else if err := d.db.release(ctx, d.cfg.Owner, j); err != nil {
			d.jobLog(j).Warn("releasing an abandoned webhook delivery; its lease will expire", "error", err)
		}
		return
	}
	if r.outcome == outcomeDelivered {
		metricAttemptSeconds.WithLabelValues("success").Observe(r.latency.Seconds())
		d.rec.add(&recording{attemptRecord: attemptRecord{j: j, r: r}, done: func(out recordOut, err error) {
			d.settle(ep, j, m, r, out, err)
		}})
		return
	}
	metricAttemptSeconds.WithLabelValues("failure").Observe(r.latency.Seconds())
	recorded := make(chan struct{})
	var out recordOut
	var err error
	d.rec.add(&recording{attemptRecord: attemptRecord{j: j, r: r}, done: func(o recordOut, e error) {
		out, err = o, e
		close(recorded)
	}})
	<-recorded
	if !d.settle(ep, j, m, r, out, err) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	switch {
	case r.outcome == outcomeGone:
		d.disable(ctx, ep, "receiver answered 410 Gone", "gone", nil)
	case out.disable:
		d.disable(ctx, ep, fmt.Sprintf("failing without a success since %s (longer than %s)",
			out.failingSince.UTC().Format(time.RFC3339), d.cfg.DisableAfter), "failing", out.failingSince)
	}
}

// untrack ends the heartbeat of a delivery.
func (d *Dispatcher) untrack(j *job, m jetstream.Msg) {
	if m != nil {
		d.inflight.removeMsg(m)
	} else {
		d.inflight.removeClaim(j.deliveryID)
	}
}

// settle acks m once the result r of j is recorded (err nil), notes the
// endpoint's backoff and counts the outcome; it reports whether the
// result was recorded. Not recorded: NATS redelivers a fresh delivery,
// and a claimed one is re-claimed when its lease ends.
func (d *Dispatcher) settle(ep *Endpoint, j *job, m jetstream.Msg, r *result, out recordOut, err error) bool {
	d.untrack(j, m)
	if err != nil {
		d.jobLog(j).Error("recording a webhook attempt", "error", err)
		if m != nil {
			_ = m.NakWithDelay(infraRetry)
		}
		return false
	}
	if m != nil {
		_ = m.Ack()
	}
	switch r.outcome {
	case outcomeDelivered:
		if !d.cache.backoffUntil(ep).IsZero() || ep.ConsecutiveFailures > 0 {
			// The endpoint healed: what waited for it is due now.
			d.cache.setBackoff(ep.ID, time.Time{})
			d.moreDue.Store(true)
			d.wakeClaimer()
		}
	case outcomeFailed:
		if out.backoffUntil != nil {
			d.cache.setBackoff(ep.ID, *out.backoffUntil)
		}
	}
	switch out.status {
	case StatusDelivered:
		metricDeliveries.WithLabelValues(metricDelivered).Inc()
	case StatusFailed:
		metricDeliveries.WithLabelValues(metricRetry).Inc()
		d.jobLog(j).Debug("webhook attempt failed; retry scheduled", "status_code", r.statusCode, "error", r.err)
	case StatusDead:
		if r.outcome == outcomeGone {
			metricDeliveries.WithLabelValues(metricGone).Inc()
		} else {
			metricDeliveries.WithLabelValues(metricDead).Inc()
			d.jobLog(j).Warn("webhook delivery exhausted its retries; it is a dead letter now", "status_code", r.statusCode, "error", r.err)
		}
	case "":
		d.jobLog(j).Info("webhook delivery was taken over by another dispatcher while attempted; attempt logged only")
	}
	return true
}

// DisabledData is the data of a webhook.disabled event, published on the
// channel of the endpoint.
type DisabledData struct {
	EndpointID   string     `json:"endpoint_id"`
	URL          string     `json:"url"`
	Reason       string     `json:"reason"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	DisabledAt   time.Time  `json:"disabled_at"`
}

// disable turns ep off, dead-letters what waits for it, tells the other
// dispatchers and publishes webhook.disabled on its channel. Admin-level
// endpoints belong to no channel, so their disabling is logged and
// counted but not published.
func (d *Dispatcher) disable(ctx context.Context, ep *Endpoint, reason, metric string, failingSince *time.Time) {
	got, changed, err := d.db.disableEndpoint(ctx, ep.ID, reason)
	if err != nil {
		d.log.Error("disabling a webhook endpoint", "endpoint_id", ep.ID, "error", err)
		return
	}
	if !changed {
		return
	}
	metricDisabled.WithLabelValues(metric).Inc()
	d.log.Warn("webhook endpoint disabled", "endpoint_id", ep.ID, "channel_id", ep.ChannelID, "reason", reason)
	d.cache.markStale()
	if err := d.cfg.Bus.Conn.Publish(d.names.WebhooksChanged(), nil); err != nil {
		d.log.Warn("announcing a webhook endpoint change", "error", err)
	}
	if ep.ChannelID == "" {
		return
	}
	at := time.Now()
	if got.DisabledAt != nil {
		at = *got.DisabledAt
	}
	ev, err := event.New(event.WebhookDisabled, ep.ChannelID, 0, at, DisabledData{
		EndpointID: ep.ID, URL: ep.URL, Reason: reason, FailingSince: failingSince, DisabledAt: at.UTC(),
	})
	if err == nil {
		_, err = d.cfg.Bus.PublishEvent(ctx, ev)
	}
	if err != nil {
		d.log.Error("publishing webhook.disabled", "endpoint_id", ep.ID, "error", err)
	}
}

// claimLoop claims due deliveries from Postgres: retries whose time has
// come, deliveries deferred while their endpoint was busy or backing off,
// replays, and leases of dead dispatchers.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	t := time.NewTicker(d.cfg.ClaimInterval)
	defer t.Stop()
	batchMax := max(1, d.cfg.Concurrency/2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.poke:
		}
		d.noteChanges()
		if err := d.cache.refresh(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("reloading webhook endpoints", "error", err)
		}
		for ctx.Err() == nil {
			n := d.tryAcquire(batchMax)
			if n == 0 {
				break
			}
			busyIDs, busyFree := d.slots.busy()
			jobs, err := d.db.claim(ctx, d.cfg.Owner, d.cfg.Lease, n, d.cfg.EndpointConcurrency, d.cfg.Concurrency, busyIDs, busyFree)
			if err != nil {
				d.releasePool(n)
				if ctx.Err() == nil {
					d.log.Warn("claiming webhook deliveries", "error", err)
				}
				break
			}
			d.releasePool(n - len(jobs))
			// Nothing found says nothing is due only if no endpoint was
			// left out for lack of slots.
			d.moreDue.Store(len(jobs) > 0 || slices.Contains(busyFree, 0))
			for _, j := range jobs {
				d.startClaimed(j)
			}
			if len(jobs) < n {
				break
			}
		}
	}
}

// startClaimed attempts a claimed delivery; it owns one pool token.
func (d *Dispatcher) startClaimed(j *job) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	ep, err := d.endpoint(ctx, j.endpointID)
	if err != nil || ep == nil || !d.slots.tryAcquire(j.endpointID, d.cfg.endpointLimit(ep)) {
		// Deleted (its deliveries went with it), unreadable, or its slots
		// filled since the claim: hand it back.
		if ep != nil {
			_ = d.db.release(ctx, d.cfg.Owner, j)
		}
		d.releasePool(1)
		return
	}
	d.inflight.addClaim(j.deliveryID)
	d.attempts.Add(1)
	go func() {
		defer d.attempts.Done()
		defer d.releasePool(1)
		d.run(ep, j, nil)
	}()
}

// heartbeat keeps what this dispatcher is attempting: NATS messages get
// InProgress, claimed deliveries a longer lease.
func (d *Dispatcher) heartbeat(ctx context.Context) {
	t := time.NewTicker(min(d.cfg.Lease, d.cfg.AckWait) / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		msgs, claimed := d.inflight.snapshot()
		for _, m := range msgs {
			_ = m.InProgress()
		}
		for _, m := range d.slots.queuedMsgs() {
			_ = m.InProgress()
		}
		if len(claimed) > 0 {
			if err := d.db.extendLeases(ctx, d.cfg.Owner, claimed, d.cfg.Lease); err != nil && ctx.Err() == nil {
				d.log.Warn("extending webhook delivery leases", "error", err)
			}
		}
	}
}

// maintain refreshes the endpoint cache, the queue-depth gauge, and
// cleans up.
func (d *Dispatcher) maintain(ctx context.Context) {
	refresh := time.NewTicker(min(d.cfg.CacheTTL, time.Second))
	defer refresh.Stop()
	depth := time.NewTicker(depthInterval)
	defer depth.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	d.updateDepth(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			d.noteChanges()
			if err := d.cache.refresh(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("reloading webhook endpoints", "error", err)
			}
		case <-depth.C:
			d.updateDepth(ctx)
			if n, err := d.db.sweepDisabled(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("dead-lettering deliveries of disabled endpoints", "error", err)
			} else if n > 0 {
				metricDeliveries.WithLabelValues(metricDead).Add(float64(n))
			}
		case <-prune.C:
			if n, err := d.db.prune(ctx, d.cfg.Retention); err != nil && ctx.Err() == nil {
				d.log.Warn("pruning delivered webhook deliveries", "error", err)
			} else if n > 0 {
				d.log.Info("pruned delivered webhook deliveries", "count", n, "retention", d.cfg.Retention)
			}
		}
	}
}

func (d *Dispatcher) updateDepth(ctx context.Context) {
	depth, err := d.db.queueDepth(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("reading webhook queue depth", "error", err)
		}
		return
	}
	metricQueueDepth.Reset()
	for id, n := range depth {
		metricQueueDepth.WithLabelValues(id).Set(float64(n))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// inflight tracks what the heartbeat keeps alive.
type inflight struct {
	mu      sync.Mutex
	msgs    map[jetstream.Msg]struct{}
	claimed map[string]struct{}
}

func (f *inflight) addMsg(m jetstream.Msg) {
	f.mu.Lock()
	f.msgs[m] = struct{}{}
	f.mu.Unlock()
}

func (f *inflight) removeMsg(m jetstream.Msg) {
	f.mu.Lock()
	delete(f.msgs, m)
	f.mu.Unlock()
}

func (f *inflight) addClaim(id string) {
	f.mu.Lock()
	f.claimed[id] = struct{}{}
	f.mu.Unlock()
}

func (f *inflight) removeClaim(id string) {
	f.mu.Lock()
	delete(f.claimed, id)
	f.mu.Unlock()
}

func (f *inflight) snapshot() ([]jetstream.Msg, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	msgs := make([]jetstream.Msg, 0, len(f.msgs))
	for m := range f.msgs {
		msgs = append(msgs, m)
	}
	claimed := make([]string, 0, len(f.claimed))
	for id := range f.claimed {
		claimed = append(claimed, id)
	}
	return msgs, claimed
}
