package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is the outcome of a closed-loop HTTP load.
type loadResult struct {
	Concurrency int         `json:"concurrency"`
	Seconds     float64     `json:"seconds"`
	Requests    int         `json:"requests"`
	Errors      int         `json:"errors"`
	Status      map[int]int `json:"status"`
	RPS         float64     `json:"requests_per_second"`
	Latency     dist        `json:"latency"`
	FirstError  string      `json:"first_error,omitempty"`
}

// request is what one request of a load sends.
type request struct {
	method, url string
	body        []byte
	header      http.Header
}

// newClient returns a keep-alive client with a connection per worker.
func newClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns: conc, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}, Timeout: 30 * time.Second}
}

// httpLoad runs conc workers that send requests back to back: warm-up
// first (not measured), then dur measured. next(worker, i) gives the i-th
// request of a worker; ok tells a success from the status code; onDone
// sees every answer; onPhase is told when measuring starts and ends.
func httpLoad(ctx context.Context, client *http.Client, conc int, warm, dur time.Duration,
	next func(worker, i int) request, ok func(status int) bool, onDone func(worker int, status int, body []byte, start, end time.Time),
	onPhase ...func(measuring bool)) loadResult {
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		lat       samples
		errs      atomic.Int64
		mu        sync.Mutex
		status    = map[int]int{}
		firstErr  string
		wg        sync.WaitGroup
	)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			codes := map[int]int{}
			for i := 0; !stop.Load() && ctx.Err() == nil; i++ {
				r := next(w, i)
				req, err := http.NewRequestWithContext(ctx, r.method, r.url, bytes.NewReader(r.body))
				if err != nil {
					panic(err)
				}
				req.Header = r.header
				start := time.Now()
				resp, err := client.Do(req)
				var body []byte
				code := 0
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				end := time.Now()
				if onDone != nil && err == nil {
					onDone(w, code, body, start, end)
				}
				if !measuring.Load() {
					continue
				}
				if err != nil || !ok(code) {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						if err != nil {
							firstErr = err.Error()
						} else {
							firstErr = fmt.Sprintf("%d %s", code, bytes.TrimSpace(body))
						}
					}
					mu.Unlock()
				} else {
					local = append(local, end.Sub(start))
				}
				codes[code]++
			}
			lat.merge(local)
			mu.Lock()
			for k, v := range codes {
				status[k] += v
			}
			mu.Unlock()
		}()
	}
	sleepCtx(ctx, warm)
	measuring.Store(true)
	for _, f := range onPhase {
		f(true)
	}
	begin := time.Now()
	sleepCtx(ctx, dur)
	measuring.Store(false)
	elapsed := time.Since(begin)
	for _, f := range onPhase {
		f(false)
	}
	stop.Store(true)
	wg.Wait()
	d := lat.dist()
	return loadResult{
		Concurrency: conc, Seconds: round(elapsed.Seconds(), 2), Requests: d.N, Errors: int(errs.Load()), Status: status,
		RPS: round(float64(d.N)/elapsed.Seconds(), 0), Latency: d, FirstError: firstErr,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
