package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wagate/wagate/pkg/app"
)

// api is a small client of the gateway's HTTP API.
type api struct {
	base   string
	token  string
	client *http.Client
}

func newAPI(g *app.Gateway) *api {
	return &api{base: g.URL(), token: g.AdminToken(), client: newClient(8)}
}

func (a *api) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(raw, out)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return resp.StatusCode, nil
}

// benchSettings lift the per-channel limits that would otherwise measure
// the rate limiter: no send rate, no warm-up, a deep queue.
var benchSettings = map[string]any{"send_rate": "0", "warmup_days": 0, "max_queue": 100000}

// createChannels creates n channels through the API (not started).
func (a *api) createChannels(ctx context.Context, n int) ([]string, error) {
	out := make([]string, 0, n)
	for i := range n {
		var ch struct {
			ID string `json:"id"`
		}
		if _, err := a.do(ctx, "POST", "/v1/channels", map[string]any{"name": fmt.Sprintf("bench-%d", i), "settings": benchSettings}, &ch); err != nil {
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
