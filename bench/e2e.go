package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/event"
)

// trace is the life of one message as the bench saw it.
type trace struct {
	acceptStart, acceptEnd time.Time
	sentCreated            time.Time // message.sent published by the worker (its created_at)
	sentStored             time.Time // stored in WA_EVT (JetStream's timestamp)
	sentSeen               time.Time // read from WA_EVT by a consumer
	readCreated            time.Time // message.read published
}

// tracker joins accepts with the events of their messages.
type tracker struct {
	mu       sync.Mutex
	m        map[string]*trace
	accepted atomic.Int64
	sent     atomic.Int64
	read     atomic.Int64
}

func newTracker() *tracker { return &tracker{m: map[string]*trace{}} }

func (t *tracker) get(id string) *trace {
	tr, ok := t.m[id]
	if !ok {
		tr = &trace{}
		t.m[id] = tr
	}
	return tr
}

func (t *tracker) accept(id string, start, end time.Time) {
	t.mu.Lock()
	tr := t.get(id)
	tr.acceptStart, tr.acceptEnd = start, end
	t.mu.Unlock()
	t.accepted.Add(1)
}

// watch follows message.sent and message.read in WA_EVT, as the relay and
// the webhook fan-out do.
func (t *tracker) watch(ctx context.Context, g *app.Gateway) (func(), error) {
	b := g.Deps.Bus
	cons, err := b.JS.OrderedConsumer(ctx, b.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Names.Evt("*", event.MessageSent), b.Names.Evt("*", event.MessageRead)},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		seen := time.Now()
		var ev struct {
			Type      string    `json:"type"`
			CreatedAt time.Time `json:"created_at"`
			Data      struct {
				MessageID string `json:"message_id"`
			} `json:"data"`
		}
		if json.Unmarshal(m.Data(), &ev) != nil || ev.Data.MessageID == "" {
			return
		}
		meta, _ := m.Metadata()
		t.mu.Lock()
		tr := t.get(ev.Data.MessageID)
		switch ev.Type {
		case event.MessageSent:
			tr.sentCreated, tr.sentSeen = ev.CreatedAt, seen
			if meta != nil {
				tr.sentStored = meta.Timestamp
			}
			t.sent.Add(1)
		case event.MessageRead:
			tr.readCreated = ev.CreatedAt
			t.read.Add(1)
		}
		t.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	return cc.Stop, nil
}

// hops are the latency distributions of one phase.
type hops struct {
	Messages      int     `json:"messages"`
	API           dist    `json:"api_accept"`          // POST start → 202
	Worker        dist    `json:"accept_to_sent"`      // 202 → message.sent published (queue wait + worker + send)
	Bus           dist    `json:"sent_to_stored"`      // message.sent published → stored in WA_EVT
	Reader        dist    `json:"stored_to_reader"`    // stored → read by a WA_EVT consumer
	Webhook       dist    `json:"sent_to_webhook"`     // message.sent published → webhook received
	Read          dist    `json:"sent_to_read"`        // message.sent → message.read (simulated phone delay included)
	TotalSent     dist    `json:"post_to_sent"`        // POST start → message.sent published
	TotalWebhook  dist    `json:"post_to_webhook"`     // POST start → message.sent webhook received
	TotalRead     dist    `json:"post_to_read"`        // POST start → message.read published
	Incomplete    int     `json:"incomplete"`          // accepted in the window but not yet read
	NoWebhook     int     `json:"without_webhook"`     // sent in the window, webhook not received
	SentPerSecond float64 `json:"sent_per_second"`     // message.sent published per second in the window
	ReadPerSecond float64 `json:"read_per_second"`     // message.read published per second in the window
	HookPerSecond float64 `json:"webhooks_per_second"` // message.sent webhooks received per second in the window
}

// hopsIn summarises the messages accepted in [from, to).
func (t *tracker) hopsIn(rc *receiver, from, to time.Time) hops {
	var api, worker, busH, reader, hook, read, tSent, tHook, tRead []time.Duration
	h := hops{}
	sentIn, readIn, hookIn := 0, 0, 0
	pos := func(d time.Duration) time.Duration { return max(d, 0) }
	t.mu.Lock()
	for id, tr := range t.m {
		if !tr.sentCreated.Before(from) && tr.sentCreated.Before(to) {
			sentIn++
		}
		if !tr.readCreated.Before(from) && tr.readCreated.Before(to) {
			readIn++
		}
		hookAt, hooked := rc.sentAt(id)
		if hooked && !hookAt.Before(from) && hookAt.Before(to) {
			hookIn++
		}
		if tr.acceptEnd.IsZero() || tr.acceptEnd.Before(from) || !tr.acceptEnd.Before(to) {
			continue
		}
		h.Messages++
		api = append(api, tr.acceptEnd.Sub(tr.acceptStart))
		if tr.readCreated.IsZero() {
			h.Incomplete++
		} else {
			read = append(read, tr.readCreated.Sub(tr.sentCreated))
			tRead = append(tRead, tr.readCreated.Sub(tr.acceptStart))
		}
		if tr.sentCreated.IsZero() {
			continue
		}
		worker = append(worker, pos(tr.sentCreated.Sub(tr.acceptEnd)))
		tSent = append(tSent, tr.sentCreated.Sub(tr.acceptStart))
		if !tr.sentStored.IsZero() {
			busH = append(busH, pos(tr.sentStored.Sub(tr.sentCreated)))
			reader = append(reader, pos(tr.sentSeen.Sub(tr.sentStored)))
		}
		if hooked {
			hook = append(hook, hookAt.Sub(tr.sentCreated))
			tHook = append(tHook, hookAt.Sub(tr.acceptStart))
		} else {
			h.NoWebhook++
		}
	}
	t.mu.Unlock()
	secs := to.Sub(from).Seconds()
	h.SentPerSecond, h.ReadPerSecond, h.HookPerSecond = round(float64(sentIn)/secs, 0), round(float64(readIn)/secs, 0), round(float64(hookIn)/secs, 0)
	h.API, h.Worker, h.Bus, h.Reader, h.Webhook, h.Read = summarize(api), summarize(worker), summarize(busH), summarize(reader), summarize(hook), summarize(read)
	h.TotalSent, h.TotalWebhook, h.TotalRead = summarize(tSent), summarize(tHook), summarize(tRead)
	return h
}

// e2eHookInFlight is the max_in_flight of the webhook endpoint receiving
// every message.sent: at thousands of messages/s, the default 4 requests
// in flight would measure the endpoint's bound, not the pipeline.
const e2eHookInFlight = 32

// runE2E drives paired channels through the API and follows each message
// to message.sent (in WA_EVT and as a webhook) and to message.read.
// Phase 1 finds the sustained rate: a closed loop that keeps at most a
// window of messages accepted but not yet sent, so the queue cannot grow
// without bound. Phase 2 offers half that rate, paced, for latencies at a
// load the fleet sustains.
func runE2E(ctx context.Context, r *runner, res *result) error {
	if r.e2eDBParams != "" {
		// An experiment: only the run with these database URL parameters.
		return e2e(ctx, r, res, r.e2eDBParams, false)
	}
	if err := e2e(ctx, r, res, "", false); err != nil {
		return err
	}
	if r.quick {
		return nil
	}
	r.progress("the same with a pool of 4 connections (pgx's default on 2 cores, the pool before 9a32a83)")
	if err := e2e(ctx, r, res, "pool_max_conns=4", false); err != nil {
		return err
	}
	r.progress("diagnostic: synchronous_commit=off (no wait for WAL flushes)")
	return e2e(ctx, r, res, "", true)
}

// e2e is one run of runE2E; runs with another pool or commit setting
// measure the sustained rate only.
func e2e(ctx context.Context, r *runner, res *result, dbParams string, asyncCommit bool) error {
	diagnostic := asyncCommit || dbParams != ""
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	e.asyncCommit = asyncCommit
	defer e.close()
	vars, err := e.gatewayEnv(ctx, dbParams)
	if err != nil {
		return err
	}
	vars["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	g, err := e.startGateway(ctx, vars, nil)
	if err != nil {
		return err
	}
	a := newAPI(g)
	nch := pick(r, 32, 8)
	r.progress("pairing %d channels through the API (start, QR, simulated scan)", nch)
	chans, err := a.pairChannels(ctx, nch)
	if err != nil {
		return err
	}
	rc, err := startReceiver()
	if err != nil {
		return err
	}
	defer rc.close()
	if _, err := a.CreateAdminWebhook(ctx, client.CreateWebhookRequest{URL: rc.url, Events: []string{event.MessageSent}, MaxInFlight: ptr(e2eHookInFlight)}); err != nil {
		return fmt.Errorf("register the webhook: %w", err)
	}
	tr := newTracker()
	stopWatch, err := tr.watch(ctx, g)
	if err != nil {
		return err
	}
	defer stopWatch()

	const conc = 32
	window := int64(pick(r, 2000, 500))
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + adminToken}}
	next := func(gate func()) func(w, i int) request {
		return func(w, i int) request {
			gate()
			ch := chans[(w+i*conc)%len(chans)]
			return request{method: "POST", url: g.URL() + "/v1/channels/" + ch + "/messages", body: sendBody, header: hdr}
		}
	}
	onDone := func(_ int, status int, body []byte, start, end time.Time) {
		if status != http.StatusAccepted {
			return
		}
		var m struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &m) == nil {
			tr.accept(m.ID, start, end)
		}
	}
	accepted := func(s int) bool { return s == http.StatusAccepted }
	warm, dur := pick(r, 3*time.Second, 500*time.Millisecond), pick(r, 15*time.Second, 2*time.Second)

	r.progress("phase 1: sustained rate, %d connections, at most %d messages accepted and not yet sent", conc, window)
	client := newClient(conc)
	stopProgress := r.every(5*time.Second, func() {
		r.progress("  accepted %d, sent %d, read %d, webhooks %d", tr.accepted.Load(), tr.sent.Load(), tr.read.Load(), func() int { d, _, _ := rc.counts(); return d }())
	})
	t0 := time.Now()
	var stopMeter func(float64) cost
	var c cost
	lr := httpLoad(ctx, client, conc, warm, dur, next(func() {
		for tr.accepted.Load()-tr.sent.Load() > window && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
	}), accepted, onDone, func(measuring bool) {
		if measuring {
			stopMeter = meter(ctx, g.Deps.Store.Pool, dbName(vars["WAGATE_DATABASE_URL"]))
		}
	})
	from, to := t0.Add(warm), t0.Add(warm+dur)
	p1 := tr.hopsIn(rc, from, to)
	c = stopMeter(p1.SentPerSecond * dur.Seconds())
	sleepCtx(ctx, time.Second) // let in-window messages reach read
	p1 = tr.hopsIn(rc, from, to)
	stopProgress()
	if diagnostic {
		client.CloseIdleConnections()
		label := dbParams
		if asyncCommit {
			label = "diagnostic: synchronous_commit=off"
		}
		res.add("sustained accept → message.sent, "+label, p1.SentPerSecond, "msg/s").
			note("read %s msg/s, webhooks %s/s (endpoint max_in_flight %d); API answered %s req/s", num(p1.ReadPerSecond), num(p1.HookPerSecond), e2eHookInFlight, num(lr.RPS))
		addCost(res, label, c)
		setDetail(res, "saturation, "+label, map[string]any{"load": lr, "hops": p1, "window": window, "cost_per_sent_message": c})
		return nil
	}

	rate := max(p1.SentPerSecond/2, 10)
	r.progress("phase 2: latency at half the sustained rate, %.0f msg/s offered (after the receipts of phase 1 are handled)", rate)
	drain := time.Now().Add(pick(r, 60*time.Second, 10*time.Second))
	for tr.read.Load() < tr.accepted.Load() && time.Now().Before(drain) && ctx.Err() == nil {
		sleepCtx(ctx, 100*time.Millisecond)
	}
	pc := newPacer(rate)
	t0 = time.Now()
	dur2 := pick(r, 10*time.Second, time.Second)
	lr2 := httpLoad(ctx, client, conc, time.Second, dur2, next(func() { pc.wait(ctx) }), accepted, onDone)
	from2, to2 := t0.Add(time.Second), t0.Add(time.Second+dur2)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && tr.read.Load() < tr.accepted.Load() && ctx.Err() == nil {
		sleepCtx(ctx, 100*time.Millisecond)
	}
	p2 := tr.hopsIn(rc, from2, to2)
	client.CloseIdleConnections()
	_, total, repeats := rc.counts()

	res.add("sustained accept → message.sent", p1.SentPerSecond, "msg/s").atLeast(5000).
		note("%d channels, %d connections; API answered %s req/s", nch, conc, num(lr.RPS))
	res.add("sustained accept → message.read", p1.ReadPerSecond, "msg/s")
	res.add("sustained accept → message.sent webhook delivered", p1.HookPerSecond, "msg/s").
		note("one admin-level endpoint, endpoint max_in_flight %d", e2eHookInFlight)
	res.add("at saturation: POST → sent p50", p1.TotalSent.P50, "ms").note("p99 %s ms (queue wait dominates)", num(p1.TotalSent.P99))
	res.add(fmt.Sprintf("at %s msg/s: POST → 202 p50", num(rate)), p2.API.P50, "ms").note("p99 %s ms", num(p2.API.P99))
	res.add("  202 → message.sent published (worker) p50", p2.Worker.P50, "ms").note("p99 %s ms", num(p2.Worker.P99))
	res.add("  published → stored in WA_EVT p50", p2.Bus.P50, "ms").note("p99 %s ms", num(p2.Bus.P99))
	res.add("  stored → read by a WA_EVT consumer p50", p2.Reader.P50, "ms").note("p99 %s ms", num(p2.Reader.P99))
	res.add("  published → webhook received p50", p2.Webhook.P50, "ms").note("p99 %s ms", num(p2.Webhook.P99))
	res.add("  POST → webhook received p50", p2.TotalWebhook.P50, "ms").note("p99 %s ms", num(p2.TotalWebhook.P99))
	res.add("  sent → read p50 (simulated phone: 60 ms)", p2.Read.P50, "ms").note("p99 %s ms", num(p2.Read.P99))
	res.add("  POST → message.read p50", p2.TotalRead.P50, "ms").note("p99 %s ms", num(p2.TotalRead.P99))
	res.add("webhook requests repeated", float64(repeats), "").note("of %d", total)
	addCost(res, "as shipped", c)
	setDetail(res, "saturation", map[string]any{"load": lr, "hops": p1, "window": window, "cost_per_sent_message": c})
	setDetail(res, "half_rate", map[string]any{"offered_per_second": rate, "load": lr2, "hops": p2})
	return nil
}

// every runs fn every d until the returned stop is called.
func (r *runner) every(d time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() { close(done) }
}

// addCost reports what one message cost at saturation.
func addCost(res *result, label string, c cost) {
	res.add("CPU per message at saturation ("+label+")", round(c.CPUms.Bench+c.CPUms.Postgres+c.CPUms.PGOther+c.CPUms.Redis, 2), "ms").
		note("gateway and load generator %s ms, Postgres backends %s ms, other Postgres %s ms, Redis %s ms; %s commits, %s rows fetched per message",
			num(c.CPUms.Bench), num(c.CPUms.Postgres), num(c.CPUms.PGOther), num(c.CPUms.Redis), num(c.PG.Commits), num(c.PG.Fetched))
}
