package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
)

// runSSE opens many Server-Sent Events clients on the gateway's relay,
// spread over a few channels, publishes events to WA_EVT at a fixed rate
// and measures what the clients receive and how late (receive time minus
// the event's created_at, on one clock).
func runSSE(ctx context.Context, r *runner, res *result) error {
	clients := pick(r, 1000, 200)
	nch := 10
	rates := pick(r, []float64{200, 1000}, []float64{100}) // events per second over all channels, one step each
	dur := pick(r, 10*time.Second, 2*time.Second)

	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	vars, err := e.gatewayEnv(ctx, "")
	if err != nil {
		return err
	}
	g, err := e.startGateway(ctx, vars, nil)
	if err != nil {
		return err
	}
	a := newAPI(g)
	chans, err := a.createChannels(ctx, nch)
	if err != nil {
		return err
	}

	r.progress("opening %d SSE clients over %d channels", clients, nch)
	transport := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	sctx, cancel := context.WithCancel(ctx)
	var (
		wg       sync.WaitGroup
		ready    atomic.Int64
		received atomic.Int64
		failed   atomic.Int64
		step     atomic.Int64 // which rate is being published
		lags     = make([]samples, len(rates))
		firstErr atomic.Value
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := i % nch
			req, _ := http.NewRequestWithContext(sctx, "GET", g.URL()+"/v1/channels/"+chans[ch]+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := hc.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
				if err == nil {
					err = fmt.Errorf("status %d", resp.StatusCode)
					resp.Body.Close()
				}
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			defer resp.Body.Close()
			local := make([][]time.Duration, len(rates))
			defer func() {
				for i := range local {
					lags[i].merge(local[i])
				}
			}()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			var kind string
			for sc.Scan() {
				line := sc.Bytes()
				switch {
				case bytes.HasPrefix(line, []byte("event: ")):
					kind = string(line[7:])
				case bytes.HasPrefix(line, []byte("data: ")):
					if kind == "ready" {
						ready.Add(1)
					} else if kind == "" {
						now := time.Now()
						var ev struct {
							CreatedAt time.Time `json:"created_at"`
						}
						if json.Unmarshal(line[6:], &ev) == nil {
							k := step.Load()
							local[k] = append(local[k], now.Sub(ev.CreatedAt))
							received.Add(1)
						}
					}
				case len(line) == 0:
					kind = ""
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for ready.Load()+failed.Load() < int64(clients) && time.Now().Before(deadline) && ctx.Err() == nil {
		sleepCtx(ctx, 50*time.Millisecond)
	}
	if failed.Load() > 0 {
		r.progress("  %d clients failed to connect: %v", failed.Load(), firstErr.Load())
	}
	streaming := ready.Load()
	res.add(fmt.Sprintf("SSE clients streaming (of %d)", clients), float64(streaming), "clients")
	var steps []map[string]any
	for k, rate := range rates {
		if k > 0 {
			sleepCtx(ctx, time.Second)
		}
		step.Store(int64(k))
		r.progress("%d clients streaming; publishing %.0f events/s for %s", streaming, rate, dur)
		before := received.Load()
		pc := newPacer(rate)
		published := make([]int64, nch)
		start := time.Now()
		for i := 0; time.Since(start) < dur && ctx.Err() == nil; i++ {
			pc.wait(ctx)
			ch := i % nch
			ev, err := event.New(event.MessageReceived, chans[ch], 1, time.Now(), map[string]any{
				"message_id": ids.New(ids.Message), "chat": "15550102030@s.whatsapp.net", "from": "15550102030@s.whatsapp.net", "type": "text", "text": "fan-out",
			})
			if err != nil {
				cancel()
				return err
			}
			if _, err := g.Deps.Bus.PublishEvent(ctx, ev); err != nil {
				cancel()
				return err
			}
			published[ch]++
		}
		elapsed := time.Since(start)
		// Each event goes to the clients of its channel (client i watches channel i % nch).
		var expected int64
		for ch, n := range published {
			clientsOf := int64(clients / nch)
			if ch < clients%nch {
				clientsOf++
			}
			expected += n * clientsOf
		}
		expected = expected * streaming / int64(clients)
		wait := time.Now().Add(10 * time.Second)
		for received.Load()-before < expected && time.Now().Before(wait) && ctx.Err() == nil {
			sleepCtx(ctx, 20*time.Millisecond)
		}
		got := received.Load() - before
		steps = append(steps, map[string]any{"rate": rate, "published_per_second": float64(sum(published)) / elapsed.Seconds(),
			"published": sum(published), "expected": expected, "received": got, "seconds": elapsed.Seconds()})
	}
	// Clients hand their lags over when they end.
	cancel()
	wg.Wait()
	for k, st := range steps {
		d := lags[k].dist()
		st["lag"] = d
		label := fmt.Sprintf("at %s events/s published", num(st["rate"].(float64)))
		got, expected := st["received"].(int64), st["expected"].(int64)
		res.add("deliveries to clients "+label, round(float64(got)/st["seconds"].(float64), 0), "events/s").
			note("%s events/s published over %d channels; %d of %d expected deliveries", num(st["published_per_second"].(float64)), nch, got, expected)
		f := res.add("lag p99 "+label, d.P99, "ms").note("p50 %s ms, max %s ms (published → parsed by the client)", num(d.P50), num(d.Max))
		if k == 0 {
			f.atMost(100)
		}
		if lost := expected - got; lost > 0 {
			res.add("deliveries missing "+label, float64(lost), "")
		}
	}
	setDetail(res, "sse", map[string]any{"clients": clients, "ready": streaming, "failed": failed.Load(), "channels": nch, "steps": steps})
	return nil
}

func sum(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}
