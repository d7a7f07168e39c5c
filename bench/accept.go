package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/wagate/wagate/pkg/app"
	"github.com/wagate/wagate/pkg/client"
)

// api is the gateway's HTTP API through pkg/client, for setting a run up
// (the measured requests go through httpLoad).
type api struct {
	*client.Client
}

func newAPI(g *app.Gateway) *api {
	c, err := client.New(g.URL(), g.AdminToken(), client.WithHTTPClient(newClient(8)))
	if err != nil {
		panic(err) // g.URL() is always http://host:port
	}
	return &api{Client: c}
}

// benchSettings lift the per-channel limits that would otherwise measure
// the rate limiter: no send rate, no warm-up, a deep queue.
var benchSettings = client.Settings{SendRate: "0", WarmupDays: ptr(0), MaxQueue: ptr(100000)}

func ptr[T any](v T) *T { return &v }

// createChannels creates n channels through the API (not started).
func (a *api) createChannels(ctx context.Context, n int) ([]string, error) {
	out := make([]string, 0, n)
	for i := range n {
		ch, err := a.CreateChannel(ctx, client.CreateChannelRequest{Name: fmt.Sprintf("bench-%d", i), Settings: &benchSettings})
		if err != nil {
			return nil, err
		}
		out = append(out, ch.ID)
	}
	return out, nil
}

// runAccept measures POST /v1/channels/{id}/messages alone: the channels
// are not started, so the messages stay queued and only the API (auth,
// validation, the queue bound, the insert, the wake-up publish) and the
// worker's acknowledgement of the wake-ups run.
func runAccept(ctx context.Context, r *runner, res *result) error {
	channels := pick(r, 64, 16)
	for _, variant := range []struct {
		name, params, label string
		asyncCommit         bool
	}{
		{"default", "", "as shipped (pool of 16 connections)", false},
		{"pool4", "pool_max_conns=4", "pool_max_conns=4 (pgx's default on 2 cores, the pool before 9a32a83)", false},
		{"async_commit", "", "diagnostic: synchronous_commit=off (no wait for WAL flushes)", true},
	} {
		if r.quick && variant.name != "default" {
			continue
		}
		e := newEnv(r.adminDSN, r.redisURL, r.log)
		e.asyncCommit = variant.asyncCommit
		vars, err := e.gatewayEnv(ctx, variant.params)
		if err != nil {
			e.close()
			return err
		}
		g, err := e.startGateway(ctx, vars, nil)
		if err != nil {
			e.close()
			return err
		}
		a := newAPI(g)
		ids, err := a.createChannels(ctx, channels)
		if err != nil {
			e.close()
			return err
		}
		hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + adminToken}}
		r.progress("API accept (%s): %d connections over %d channels", variant.name, httpConcurrency, channels)
		client := newClient(httpConcurrency)
		var stopMeter func(float64) cost
		lr := httpLoad(ctx, client, httpConcurrency, pick(r, 2*time.Second, 300*time.Millisecond), pick(r, 10*time.Second, time.Second),
			func(w, i int) request {
				ch := ids[(w+i*httpConcurrency)%len(ids)]
				return request{method: "POST", url: g.URL() + "/v1/channels/" + ch + "/messages", body: sendBody, header: hdr}
			},
			func(s int) bool { return s == http.StatusAccepted }, nil,
			func(measuring bool) {
				if measuring {
					stopMeter = meter(ctx, g.Deps.Store.Pool, dbName(vars["WAGATE_DATABASE_URL"]))
				}
			})
		client.CloseIdleConnections()
		c := stopMeter(float64(lr.Requests + lr.Errors))
		raw := r.baseline["http_rps"]
		if variant.name == "default" {
			res.add("POST /messages, "+variant.label, lr.RPS, "req/s").atLeast(20000)
			res.add("p99 latency", lr.Latency.P99, "ms").atMost(10).note("p50 %s ms", num(lr.Latency.P50))
		} else {
			res.add("POST /messages, "+variant.label, lr.RPS, "req/s").note("p50 %s ms, p99 %s ms", num(lr.Latency.P50), num(lr.Latency.P99))
		}
		if raw > 0 {
			res.add("ratio to raw HTTP POST ("+variant.name+")", round(lr.RPS/raw, 3), "×")
		}
		res.add("CPU per request ("+variant.name+")", round(c.CPUms.Bench+c.CPUms.Postgres+c.CPUms.PGOther+c.CPUms.Redis, 3), "ms").
			note("gateway and load generator %s ms, Postgres backends %s ms, other Postgres %s ms; %s commits and %s rows fetched per request",
				num(c.CPUms.Bench), num(c.CPUms.Postgres), num(c.CPUms.PGOther), num(c.PG.Commits), num(c.PG.Fetched))
		if lr.Errors > 0 {
			res.add("non-202 answers ("+variant.name+")", float64(lr.Errors), "").note("first: %s", lr.FirstError)
		}
		setDetail(res, variant.name, map[string]any{"load": lr, "cost_per_request": c})
		e.close()
	}
	return nil
}
