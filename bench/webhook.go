package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/client"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
)

// runWebhook measures delivery from a backlog: events are stored in WA_EVT
// while no dispatcher runs, then a gateway starts and its dispatcher fans
// them out and delivers them to a local receiver. Deliveries per second are
// counted from the first delivery to the last, and compared with raw HTTP
// POSTs at the same concurrency.
func runWebhook(ctx context.Context, r *runner, res *result) error {
	deliveries := pick(r, 20000, 1000)
	for _, v := range []struct {
		endpoints int
		// maxInFlight is the endpoints' max_in_flight; 0 leaves the
		// dispatcher's default, 4.
		maxInFlight int
		conc        int // in-flight attempts the dispatcher allows: max_in_flight per endpoint, Concurrency 256 in all
		diagnostic  bool
	}{{1, 0, 4, false}, {16, 0, 64, false}, {16, 0, 64, true}, {1, 32, 32, false}} {
		if r.quick && (v.diagnostic || v.endpoints == 1 && v.maxInFlight == 0) {
			continue // quick: sixteen endpoints, and one endpoint at max_in_flight 32
		}
		if err := webhookBacklog(ctx, r, res, deliveries, v.endpoints, v.maxInFlight, v.conc, v.diagnostic); err != nil {
			return err
		}
	}
	return nil
}

// webhookBacklog measures one backlog. A diagnostic run sets
// synchronous_commit=off: the ceiling once delivery records are batched.
func webhookBacklog(ctx context.Context, r *runner, res *result, deliveries, endpoints, maxInFlight, conc int, diagnostic bool) error {
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	e.asyncCommit = diagnostic
	defer e.close()
	vars, err := e.gatewayEnv(ctx, "")
	if err != nil {
		return err
	}
	vars["WAGATE_WEBHOOK_ALLOW_PRIVATE"] = "true"
	rc, err := startReceiver()
	if err != nil {
		return err
	}
	defer rc.close()

	// 1. A gateway registers the endpoints, then stops.
	g, err := e.startGateway(ctx, vars, nil)
	if err != nil {
		return err
	}
	a := newAPI(g)
	chans, err := a.createChannels(ctx, 1)
	if err != nil {
		return err
	}
	for i := range endpoints {
		body := client.CreateWebhookRequest{URL: fmt.Sprintf("%s/%d", rc.url, i), Events: []string{event.MessageReceived}}
		if maxInFlight > 0 {
			body.MaxInFlight = ptr(maxInFlight)
		}
		if _, err := a.CreateAdminWebhook(ctx, body); err != nil {
			return err
		}
	}
	waitReady(ctx, g)
	g.Stop()

	// 2. The backlog: events stored while no dispatcher runs.
	events := deliveries / endpoints
	r.progress("storing a backlog of %d events for %d endpoint(s) (%d deliveries)", events, endpoints, events*endpoints)
	cfg, err := loadConfig("gateway", vars)
	if err != nil {
		return err
	}
	deps, err := app.Open(ctx, cfg, r.log)
	if err != nil {
		return err
	}
	for i := range events {
		ev, err := event.New(event.MessageReceived, chans[0], 1, time.Now(), map[string]any{
			"message_id": ids.New(ids.Message), "id": fmt.Sprintf("3AB%d", i), "chat": "15550102030@s.whatsapp.net",
			"from": "15550102030@s.whatsapp.net", "type": "text", "text": "backlog",
		})
		if err != nil {
			deps.Close()
			return err
		}
		if _, err := deps.Bus.PublishEvent(ctx, ev); err != nil {
			deps.Close()
			return err
		}
	}
	deps.Close()

	// 3. A gateway starts on the backlog.
	r.progress("starting a gateway on the backlog; its dispatcher delivers")
	outcomesBefore := counters("wagate_webhook_deliveries_total", "outcome")
	start := time.Now()
	g, err = e.startGateway(ctx, vars, nil)
	if err != nil {
		return err
	}
	want := events * endpoints
	deadline := time.Now().Add(pick(r, 5*time.Minute, time.Minute))
	last := time.Now()
	for ctx.Err() == nil {
		n, _, _ := rc.counts()
		if n >= want || time.Now().After(deadline) {
			break
		}
		if time.Since(last) > 5*time.Second {
			r.progress("  %d of %d delivered", n, want)
			last = time.Now()
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	distinct, total, repeats := rc.counts()
	outcomes := delta(outcomesBefore, counters("wagate_webhook_deliveries_total", "outcome"))
	arrivals := rc.arrivals()
	if len(arrivals) < 2 {
		return fmt.Errorf("only %d deliveries arrived", len(arrivals))
	}
	slices.SortFunc(arrivals, func(x, y time.Time) int { return x.Compare(y) })
	span := arrivals[len(arrivals)-1].Sub(arrivals[0])
	rate := float64(len(arrivals)-1) / span.Seconds()
	g.Stop()
	raw := rawHTTPAt(ctx, r, conc)
	name := fmt.Sprintf("%d endpoint(s), %d in flight", endpoints, conc)
	detail := fmt.Sprintf("endpoints_%d_diagnostic_%v", endpoints, diagnostic)
	if maxInFlight > 0 {
		name = fmt.Sprintf("%d endpoint(s), max_in_flight %d", endpoints, maxInFlight)
		detail += fmt.Sprintf("_max_in_flight_%d", maxInFlight)
	}
	if diagnostic {
		name = "diagnostic: " + name + ", synchronous_commit=off"
	}
	res.add("deliveries/s, "+name, round(rate, 0), "deliveries/s").
		note("%d deliveries in %.1f s; first after %.1f s", distinct, span.Seconds(), arrivals[0].Sub(start).Seconds())
	if raw > 0 && !diagnostic {
		res.add(fmt.Sprintf("ratio to raw HTTP POST at %d connections (%s req/s)", conc, num(raw)), round(rate/raw, 3), "×").atLeast(0.5)
	} else if raw > 0 {
		res.add("diagnostic ratio to raw HTTP POST", round(rate/raw, 3), "×")
	}
	if distinct < want {
		res.add("not delivered ("+name+")", float64(want-distinct), "").note("after %s", time.Since(start).Round(time.Second))
	}
	if deferred := outcomes["deferred"]; deferred > 0 {
		res.add("deferred to Postgres, endpoint busy ("+name+")", round(100*deferred/float64(want), 1), "%").
			note("attempted later through the claimer: an extra write and a claim each")
	}
	if repeats > 0 {
		res.add("repeated deliveries ("+name+")", float64(repeats), "").note("of %d requests", total)
	}
	setDetail(res, detail, map[string]any{
		"deliveries": distinct, "requests": total, "outcomes": outcomes, "repeats": repeats, "seconds": span.Seconds(), "per_second": rate, "raw_http_per_second": raw,
	})
	return nil
}

// waitReady waits until the gateway's worker finished a balancing round, so
// that stopping it does not interrupt shard acquisitions.
func waitReady(ctx context.Context, g *app.Gateway) {
	for g.Worker.Ready(ctx) != nil && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// rawHTTPAt measures raw HTTP POSTs of the same body to the same receiver
// at the dispatcher's concurrency: the ceiling of webhook delivery.
func rawHTTPAt(ctx context.Context, r *runner, conc int) float64 {
	key := fmt.Sprintf("http_rps_%d", conc)
	if v, ok := r.baseline[key]; ok {
		return v
	}
	rc, err := startReceiver()
	if err != nil {
		return 0
	}
	defer rc.close()
	client := newClient(conc)
	defer client.CloseIdleConnections()
	lr := httpLoad(ctx, client, conc, 300*time.Millisecond, pick(r, 3*time.Second, time.Second),
		func(w, i int) request {
			hdr := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {fmt.Sprintf("raw_%d_%d", w, i)}}
			return request{method: "POST", url: rc.url, body: sendBody, header: hdr}
		},
		func(s int) bool { return s == http.StatusOK }, nil)
	r.baseline[key] = lr.RPS
	return lr.RPS
}
