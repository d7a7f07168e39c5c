package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/client"
)

// pairChannels creates n channels through the API and pairs each as a user
// would: start, wait for the QR code, simulated scan, wait until active.
func (a *api) pairChannels(ctx context.Context, n int) ([]string, error) {
	ids, err := a.createChannels(ctx, n)
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, 8, ids, func(gctx context.Context, id string) error {
		if _, err := a.StartChannel(gctx, id); err != nil {
			return err
		}
		if err := a.waitState(gctx, id, "qr_pending", 30*time.Second); err != nil {
			return err
		}
		if _, err := a.Simulate(gctx, id, client.SimScan, nil); err != nil {
			return err
		}
		return a.waitState(gctx, id, "active", 30*time.Second)
	})
	return ids, err
}

// parallel runs fn for every item, limit at a time, and returns the first
// error (the others are cancelled).
func parallel[T any](ctx context.Context, limit int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, it); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (a *api) waitState(ctx context.Context, id, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	state := ""
	for {
		if ch, err := a.GetChannel(ctx, id); err == nil {
			if state = ch.State; state == want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("channel %s did not reach %s in %s (state %q)", id, want, timeout, state)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pacer spaces calls to a fixed rate across goroutines (an open-loop load
// offered at rate per second).
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(rate float64) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / rate), next: time.Now()}
}

// wait blocks until the caller's slot.
func (p *pacer) wait(ctx context.Context) {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	slot := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	if d := time.Until(slot); d > 0 {
		sleepCtx(ctx, d)
	}
}
