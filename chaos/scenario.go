package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
)

// harness is what a scenario acts on.
type harness struct {
	o        options
	in       *infra
	f        *fleet
	rc       *receiver
	a        *apiClient
	channels []string
	keys     names.Redis
	// The receiver's counters when the scenario began.
	repeatsBefore, badSigBefore int
	// faultNotes are what the injection observed (e.g. restart times).
	faultNotes []string
}

// scenario injects one fault; it returns when the fault began and ended.
type scenario struct {
	name, fault string
	inject      func(ctx context.Context, h *harness) (start, end time.Time, err error)
}

var scenarios = []scenario{
	{"kill-api", "kill -9 of cmd/api, started again at once", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		return h.killRestart(ctx, h.f.api)
	}},
	{"kill-worker-a", "kill -9 of the first cmd/worker, started again at once (new worker id)", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		return h.killRestart(ctx, h.f.workers[0])
	}},
	{"kill-worker-b", "kill -9 of the second cmd/worker, started again at once (new worker id)", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		return h.killRestart(ctx, h.f.workers[1])
	}},
	{"kill-dispatcher", "kill -9 of cmd/dispatcher, started again at once", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		return h.killRestart(ctx, h.f.dispatcher)
	}},
	{"redis", "Redis killed (-9), restarted empty after 5 s", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		return h.killRedis(ctx)
	}},
	{"nats", "nats-server killed (-9), restarted on the same JetStream store after 5 s", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		start := time.Now()
		progress("kill -9 nats-server (pid %d)", h.in.nats.pid())
		h.in.nats.kill()
		sleepCtx(ctx, h.o.down)
		err := h.in.nats.start(ctx)
		return start, time.Now(), err
	}},
	{"postgres", "Postgres stopped (immediate mode) for 15 s", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		start := time.Now()
		progress("stopping Postgres for %s", h.o.pgDown)
		if err := h.in.stopPostgres(ctx); err != nil {
			return start, time.Now(), err
		}
		h.note("Postgres stopped %.1f s after the stop command", time.Since(start).Seconds())
		sleepCtx(ctx, h.o.pgDown)
		restart := time.Now()
		err := h.in.startPostgres(ctx)
		h.note("Postgres accepting connections %.1f s after the start command", time.Since(restart).Seconds())
		return start, time.Now(), err
	}},
	{"receiver", "the webhook receiver answers 500 for 20 s", func(ctx context.Context, h *harness) (time.Time, time.Time, error) {
		start := time.Now()
		progress("receiver failing for %s", h.o.hookDown)
		h.rc.setFailing(true)
		sleepCtx(ctx, h.o.hookDown)
		h.rc.setFailing(false)
		return start, time.Now(), nil
	}},
}

func scenarioNames() []string {
	var out []string
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return out
}

func scenarioByName(name string) *scenario {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i]
		}
	}
	return nil
}

// note records and prints what the injection observed.
func (h *harness) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	progress("%s", n)
	h.faultNotes = append(h.faultNotes, n)
}

// killRestart kills s with SIGKILL and starts it again at once, as a
// supervisor would. The fault is the instant of the kill.
func (h *harness) killRestart(ctx context.Context, s *service) (time.Time, time.Time, error) {
	progress("kill -9 %s (pid %d)", s.name, s.pid())
	at := time.Now()
	s.kill()
	err := s.start(ctx)
	h.note("%s ready again %.1f s after the kill", s.name, time.Since(at).Seconds())
	return at, at, err
}

// killRedis kills Redis and starts it again empty, as a Redis without
// persistence comes back. The simulator keeps the state of WhatsApp
// itself (pending messages and receipts, delivery counts, contacts,
// groups) in the same Redis, but WhatsApp's servers do not forget when
// our Redis does: with client writes paused, every sim:* key is dumped
// before the kill and restored after the restart, so that only wagate's
// own keys (leases, rate windows, sequences, QR codes) are lost.
func (h *harness) killRedis(ctx context.Context) (time.Time, time.Time, error) {
	rdb := redis.NewClient(&redis.Options{Addr: h.in.redisAddr})
	defer rdb.Close()
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "10000", "WRITE").Err(); err != nil {
		return time.Now(), time.Now(), fmt.Errorf("pause Redis writes: %w", err)
	}
	type dumped struct {
		val string
		ttl time.Duration
	}
	saved := map[string]dumped{}
	iter := rdb.Scan(ctx, 0, h.keys.Prefix()+"sim:*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		val, err := rdb.Dump(ctx, k).Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return time.Now(), time.Now(), fmt.Errorf("dump %s: %w", k, err)
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			return time.Now(), time.Now(), fmt.Errorf("ttl of %s: %w", k, err)
		}
		if ttl < 0 {
			ttl = 0
		}
		saved[k] = dumped{val, ttl}
	}
	if err := iter.Err(); err != nil {
		return time.Now(), time.Now(), fmt.Errorf("scan simulator keys: %w", err)
	}
	start := time.Now()
	progress("kill -9 redis (pid %d) after saving %d simulator keys (WhatsApp's own state)", h.in.redis.pid(), len(saved))
	h.in.redis.kill()
	sleepCtx(ctx, h.o.down)
	if err := h.in.redis.start(ctx); err != nil {
		return start, time.Now(), err
	}
	after := redis.NewClient(&redis.Options{Addr: h.in.redisAddr})
	defer after.Close()
	for k, d := range saved {
		if err := after.RestoreReplace(ctx, k, d.ttl, d.val).Err(); err != nil {
			return start, time.Now(), fmt.Errorf("restore %s: %w", k, err)
		}
	}
	return start, time.Now(), nil
}

// deliveries returns how many times the simulated phone received each id.
func (h *harness) deliveries(ctx context.Context, ids []string) (map[string]int, error) {
	out := map[string]int{}
	rdb := redis.NewClient(&redis.Options{Addr: h.in.redisAddr})
	defer rdb.Close()
	for i := 0; i < len(ids); i += 500 {
		part := ids[i:min(i+500, len(ids))]
		vals, err := rdb.HMGet(ctx, h.keys.SimDeliveries(), part...).Result()
		if err != nil {
			return nil, err
		}
		for j, v := range vals {
			if s, ok := v.(string); ok {
				out[part[j]], _ = strconv.Atoi(s)
			}
		}
	}
	return out, nil
}

// waitBalanced waits until every shard lease is held and the two
// workers share them, neither above its target of half the shards.
func (h *harness) waitBalanced(ctx context.Context, timeout time.Duration) error {
	const shards = 64
	rdb := redis.NewClient(&redis.Options{Addr: h.in.redisAddr})
	defer rdb.Close()
	keys := make([]string, shards)
	for k := range keys {
		keys[k] = h.keys.ShardLease(k)
	}
	deadline := time.Now().Add(timeout)
	var last map[string]int
	for ctx.Err() == nil {
		vals, err := rdb.MGet(ctx, keys...).Result()
		if err == nil {
			last = map[string]int{}
			for _, v := range vals {
				holder := ""
				if s, ok := v.(string); ok {
					holder, _, _ = strings.Cut(s, ":")
				}
				last[holder]++
			}
			ok := last[""] == 0 && len(last) == len(h.f.workers)
			for _, n := range last {
				ok = ok && n <= (shards+len(h.f.workers)-1)/len(h.f.workers)
			}
			if ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shards not balanced after %s: holders %v (\"\" = free)", timeout, last)
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	return ctx.Err()
}

// waitHealthy waits until every binary answers /readyz, the shards are
// balanced and every channel is active again.
func (h *harness) waitHealthy(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range h.f.services() {
		if err := s.waitReady(ctx, time.Until(deadline)); err != nil {
			return err
		}
	}
	if err := h.waitBalanced(ctx, time.Until(deadline)); err != nil {
		return err
	}
	for _, id := range h.channels {
		if err := h.a.waitState(ctx, id, "active", time.Until(deadline)); err != nil {
			return err
		}
	}
	return nil
}

// runScenario runs traffic around one fault and accounts for it.
func (h *harness) runScenario(ctx context.Context, sc scenario) (*result, error) {
	progress("── scenario %s: %s", sc.name, sc.fault)
	if err := h.waitHealthy(ctx, 2*time.Minute); err != nil {
		return nil, fmt.Errorf("fleet not healthy before %s: %w", sc.name, err)
	}
	crashesBefore := h.f.crashes()
	_, h.repeatsBefore, h.badSigBefore, _ = h.rc.stats()
	h.faultNotes = nil
	begin := time.Now()
	t := &traffic{a: h.a, channels: h.channels, prefix: sc.name + "-" + strconv.FormatInt(begin.Unix(), 36)}
	issue, stopIssue := context.WithCancel(ctx)
	giveUp, stopRetries := context.WithTimeout(ctx, h.o.warm+h.o.after+5*time.Minute)
	defer stopRetries()
	issued := make(chan struct{})
	go func() {
		defer close(issued)
		t.run(issue, giveUp, h.o.rate)
	}()
	sleepCtx(ctx, h.o.warm)
	n, acc := t.counts()
	progress("steady traffic: %d issued, %d accepted; injecting the fault", n, acc)
	start, end, err := sc.inject(ctx, h)
	if err != nil {
		stopIssue()
		<-issued
		return nil, fmt.Errorf("%s: inject: %w", sc.name, err)
	}
	sleepCtx(ctx, h.o.after)
	stopIssue()
	<-issued
	progress("traffic stopped; waiting for the client's retries")
	sends := t.finish()
	progress("waiting up to %s for statuses and webhooks", h.o.settle)
	r, err := h.settleAndAccount(ctx, sc, sends, begin, start, end)
	if err != nil {
		return nil, err
	}
	r.notes = append(h.faultNotes, r.notes...)
	for name, n := range h.f.crashes() {
		if d := n - crashesBefore[name]; d > 0 {
			r.notes = append(r.notes, fmt.Sprintf("%s exited by itself %d time(s) and was restarted", name, d))
		}
	}
	return r, nil
}
