package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/worker"
)

// runFailover runs three workers as separate processes on shared
// Postgres, Redis and NATS, gives one of them paired sessions, keeps
// publishing send commands to those channels (straight to NATS, as apps
// may, with Nats-Msg-Id as the idempotency key), SIGKILLs that worker and
// measures how long until every session is active again on the others,
// then checks that every command was sent exactly once.
func runFailover(ctx context.Context, r *runner, res *result) error {
	n := pick(r, 1000, 200)
	ttl := pick(r, 15*time.Second, 3*time.Second)
	rate := pick(r, 100.0, 50.0)
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	f, err := newFleet(ctx, r, e, 64, ttl)
	if err != nil {
		return err
	}
	workers := []string{"victim", "survivor-a", "survivor-b"}
	procs := map[string]*proc{}
	for _, id := range workers {
		var p *proc
		var err error
		if r.quick {
			// The quick mode shortens the workers' AckWait to the lease
			// TTL, so commands the victim held are redelivered in seconds
			// rather than after the default 30 s.
			p, _, err = f.startSelfWorker(ctx, id, map[string]string{envWorkerAckWait: ttl.String()})
		} else {
			p, err = f.startWorker(ctx, id)
		}
		if err != nil {
			return err
		}
		procs[id] = p
	}
	r.progress("3 worker processes started (lease TTL %s); waiting for the shards to balance", ttl)
	if err := f.waitBalanced(ctx, 6*ttl+30*time.Second, workers...); err != nil {
		return err
	}
	holders, err := f.holders(ctx)
	if err != nil {
		return err
	}
	victimShards := map[int]bool{}
	for k, w := range holders {
		if w == "victim" {
			victimShards[k] = true
		}
	}
	seeded := time.Now()
	chans, err := f.seedPaired(ctx, n, func(k int) bool { return victimShards[k] })
	if err != nil {
		return err
	}
	if err := f.start(ctx, chans); err != nil {
		return err
	}
	r.progress("victim holds %d shards; resuming %d paired sessions on it", len(victimShards), n)
	if _, err := f.waitActive(ctx, chans, seeded, pick(r, 120*time.Second, 30*time.Second), "sessions on the victim"); err != nil {
		return err
	}

	// Commands keep coming before, during and after the crash.
	var (
		mu        sync.Mutex
		keys      []string
		published = map[string]time.Time{}
		pubErrs   int
	)
	cmdCtx, stopCmds := context.WithCancel(ctx)
	cmdDone := make(chan struct{})
	go func() {
		defer close(cmdDone)
		pc := newPacer(rate)
		for i := 0; cmdCtx.Err() == nil; i++ {
			pc.wait(cmdCtx)
			if cmdCtx.Err() != nil {
				return
			}
			ch := chans[i%len(chans)]
			key := "failover-" + strconv.Itoa(i)
			body, _ := json.Marshal(map[string]any{"to": "15550102030", "type": "text", "text": "during failover " + key})
			msg := &nats.Msg{Subject: f.bus.Names.Cmd(ch, command.Send), Data: body, Header: nats.Header{}}
			msg.Header.Set(names.HeaderMsgID, key)
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			at := time.Now()
			_, err := f.bus.JS.PublishMsg(pctx, msg)
			cancel()
			mu.Lock()
			if err != nil {
				pubErrs++
			} else {
				keys = append(keys, key)
				published[key] = at
			}
			mu.Unlock()
		}
	}()
	sleepCtx(ctx, 3*time.Second)

	r.progress("SIGKILL of the victim (pid %d) with %d sessions; commands at %.0f/s", procs["victim"].cmd.Process.Pid, n, rate)
	crashAt := time.Now()
	procs["victim"].kill()
	var leasesAt time.Time
	stopLeaseWatch := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopLeaseWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			h, err := f.holders(ctx)
			if err != nil {
				continue
			}
			gone := true
			for _, w := range h {
				gone = gone && w != "victim" && w != ""
			}
			if gone {
				leasesAt = time.Now()
				return
			}
		}
	}()
	activeAt, err := f.waitActive(ctx, chans, crashAt, 3*ttl+60*time.Second, "sessions on the survivors")
	close(stopLeaseWatch)
	if err != nil {
		stopCmds()
		<-cmdDone
		return err
	}
	sleepCtx(ctx, 2*time.Second)
	stopCmds()
	<-cmdDone
	failover := activeAt.Sub(crashAt)
	r.progress("all %d sessions active on the survivors %.1f s after the kill; checking every command", n, failover.Seconds())

	mu.Lock()
	sentKeys := append([]string(nil), keys...)
	mu.Unlock()
	var sent, failed int
	deadline := time.Now().Add(60 * time.Second)
	for ctx.Err() == nil {
		if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'played')),
			count(*) FILTER (WHERE status = 'failed') FROM messages WHERE idempotency_key = ANY($1)`, sentKeys).Scan(&sent, &failed); err != nil {
			return err
		}
		if sent+failed >= len(sentKeys) || time.Now().After(deadline) {
			break
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	counts, err := f.rdb.HGetAll(ctx, f.keys.SimDeliveries()).Result()
	if err != nil {
		return err
	}
	dupMsgs, extra := 0, 0
	for _, v := range counts {
		if c, _ := strconv.Atoi(v); c > 1 {
			dupMsgs++
			extra += c - 1
		}
	}
	doubles, err := sim.DoubleConnections(ctx, f.rdb, f.keys)
	if err != nil {
		return err
	}
	lost := len(sentKeys) - sent - failed
	// How long commands took from publication to the phone, around the kill.
	var delays []time.Duration
	var slowKey string
	var slowest time.Duration
	rows, err := f.store.Pool.Query(ctx, `SELECT idempotency_key, sent_at FROM messages WHERE idempotency_key = ANY($1) AND sent_at IS NOT NULL`, sentKeys)
	if err != nil {
		return err
	}
	for rows.Next() {
		var key string
		var at time.Time
		if err := rows.Scan(&key, &at); err != nil {
			rows.Close()
			return err
		}
		d := at.Sub(published[key])
		delays = append(delays, d)
		if d > slowest {
			slowest, slowKey = d, key
		}
	}
	rows.Close()
	dd := summarize(delays)
	slowAt := published[slowKey].Sub(crashAt)
	res.add(fmt.Sprintf("seconds until all %d sessions active on the survivors", n), round(failover.Seconds(), 1), "s").
		atMost((ttl + 5*time.Second).Seconds()).note("lease TTL %s; leases taken over after %.1f s", ttl, leasesAt.Sub(crashAt).Seconds())
	res.add("commands lost", float64(lost), "").atMost(0).note("%d send commands published at %.0f/s around the kill; %d sent, %d failed", len(sentKeys), rate, sent, failed)
	res.add("slowest command, published → sent", round(slowest.Seconds(), 1), "s").
		note("published %+.1f s from the kill; p50 %s ms, p99 %s ms; the victim's unacknowledged commands wait for the takeover and for AckWait (%s) before redelivery",
			slowAt.Seconds(), num(dd.P50), num(dd.P99), pick(r, worker.Config{}.WithDefaults().AckWait.String()+", the default", ttl.String()))
	res.add("duplicates sent", float64(extra), "").atMost(0).note("messages delivered more than once: %d; double connections: %d", dupMsgs, doubles)
	setDetail(res, "failover", map[string]any{
		"sessions": n, "lease_ttl_seconds": ttl.Seconds(), "victim_shards": len(victimShards), "failover_seconds": failover.Seconds(),
		"leases_taken_seconds": leasesAt.Sub(crashAt).Seconds(), "published": len(sentKeys), "publish_errors": pubErrs, "command_delay": dd, "slowest_command_seconds": slowest.Seconds(), "slowest_published_after_kill_seconds": slowAt.Seconds(),
		"sent": sent, "failed": failed, "lost": lost, "duplicate_messages": dupMsgs, "extra_deliveries": extra, "double_connections": doubles,
	})
	return nil
}
