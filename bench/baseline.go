package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/natsauth"
)

// Fixed concurrency of the HTTP loads: raw HTTP and the API accept are
// measured with the same client, concurrency and body.
const httpConcurrency = 64

// sendBody is the send request of the HTTP loads (raw and API alike).
var sendBody = []byte(`{"to":"+1 (555) 010-2030","type":"text","text":"hello from the wagate benchmark"}`)

func natsServerVersion() string { return server.VERSION }

func runBaselines(ctx context.Context, r *runner, res *result) error {
	if err := measureRawHTTP(ctx, r, res); err != nil {
		return err
	}
	if err := measureJetStream(ctx, r, res); err != nil {
		return err
	}
	return measurePostgres(ctx, r, res)
}

// measureRawHTTP is the ceiling of the API: the same client, body and
// concurrency against a net/http handler that reads the body and answers
// 202 with a small JSON, on loopback.
func measureRawHTTP(ctx context.Context, r *runner, res *result) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	answer := []byte(`{"id":"msg_01jbench0000000000000000000","status":"queued"}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(answer)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/channels/ch_x/messages"
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + adminToken}}
	r.progress("raw HTTP POST on loopback, %d connections", httpConcurrency)
	client := newClient(httpConcurrency)
	lr := httpLoad(ctx, client, httpConcurrency, pick(r, 2*time.Second, 300*time.Millisecond), pick(r, 10*time.Second, time.Second),
		func(int, int) request { return request{method: "POST", url: url, body: sendBody, header: hdr} },
		func(s int) bool { return s == http.StatusAccepted }, nil)
	client.CloseIdleConnections()
	r.baseline["http_rps"] = lr.RPS
	r.baseline["http_p99"] = lr.Latency.P99
	res.add(fmt.Sprintf("HTTP POST, loopback, trivial handler, %d conns", httpConcurrency), lr.RPS, "req/s")
	res.add("HTTP POST p50 / p99", lr.Latency.P50, "ms").note("p99 %s ms", num(lr.Latency.P99))
	setDetail(res, "raw_http", lr)
	return nil
}

// measureJetStream publishes to a file-backed stream of an embedded server
// configured like WA_CMD (de-duplication by Nats-Msg-Id), in process.
func measureJetStream(ctx context.Context, r *runner, res *result) error {
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	dir, err := e.tempDir()
	if err != nil {
		return err
	}
	auth, err := natsauth.New()
	if err != nil {
		return err
	}
	emb, err := bus.StartEmbedded(dir, "", auth)
	if err != nil {
		return err
	}
	defer emb.Shutdown()
	admin, err := emb.As(natsauth.RoleAdmin)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(emb.ClientURL(), emb.InProcess(), admin)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute,
	}); err != nil {
		return err
	}
	payload := []byte(`{"message_id":"msg_01jbench0000000000000000000","requested_at":"2025-01-01T00:00:00Z"}`)
	msg := func() *nats.Msg {
		m := nats.NewMsg("bench.cmd.ch_x.send")
		m.Data = payload
		m.Header.Set(names.HeaderMsgID, ids.New(ids.Message))
		return m
	}
	dur := pick(r, 4*time.Second, 500*time.Millisecond)

	for _, conc := range []int{1, httpConcurrency} {
		r.progress("JetStream publish, synchronous, %d publisher(s)", conc)
		var lat samples
		var n atomic.Int64
		deadline := time.Now().Add(dur)
		var wg sync.WaitGroup
		start := time.Now()
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, 1024)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t := time.Now()
					if _, err := js.PublishMsg(ctx, msg()); err != nil {
						continue
					}
					local = append(local, time.Since(t))
					n.Add(1)
				}
				lat.merge(local)
			}()
		}
		wg.Wait()
		rate := float64(n.Load()) / time.Since(start).Seconds()
		d := lat.dist()
		if conc == 1 {
			r.baseline["js_sync_rate"] = rate
			res.add("JetStream publish sync, 1 publisher", round(rate, 0), "msg/s").note("p50 %s ms, p99 %s ms", num(d.P50), num(d.P99))
		} else {
			r.baseline["js_sync_conc_rate"] = rate
			res.add(fmt.Sprintf("JetStream publish sync, %d publishers", conc), round(rate, 0), "msg/s").note("p50 %s ms, p99 %s ms", num(d.P50), num(d.P99))
		}
		setDetail(res, fmt.Sprintf("jetstream_sync_%d", conc), d)
	}

	r.progress("JetStream publish, asynchronous (4096 pending)")
	var sent int
	start := time.Now()
	deadline := start.Add(dur)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for range 1000 {
			if _, err := js.PublishMsgAsync(msg()); err != nil {
				return err
			}
			sent++
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return fmt.Errorf("async publishes not acknowledged after 30s")
	}
	rate := float64(sent) / time.Since(start).Seconds()
	r.baseline["js_async_rate"] = rate
	res.add("JetStream publish async", round(rate, 0), "msg/s")
	return nil
}

// measurePostgres inserts single rows (autocommit, synchronous_commit as
// configured) into a table shaped like the message log's hot columns.
func measurePostgres(ctx context.Context, r *runner, res *result) error {
	e := newEnv(r.adminDSN, r.redisURL, r.log)
	defer e.close()
	dsn, err := e.database(ctx, "pool_max_conns=16")
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE bench (id text PRIMARY KEY, channel_id text NOT NULL, body jsonb NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	dur := pick(r, 4*time.Second, 500*time.Millisecond)
	for _, conc := range []int{1, 16} {
		r.progress("Postgres single-row INSERT, %d connection(s)", conc)
		var lat samples
		var n atomic.Int64
		deadline := time.Now().Add(dur)
		start := time.Now()
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, 1024)
				for time.Now().Before(deadline) && ctx.Err() == nil {
					t := time.Now()
					if _, err := pool.Exec(ctx, `INSERT INTO bench (id, channel_id, body) VALUES ($1, $2, $3)`,
						ids.New(ids.Message), "ch_x", sendBody); err != nil {
						if ctx.Err() == nil {
							panic(err)
						}
						return
					}
					local = append(local, time.Since(t))
					n.Add(1)
				}
				lat.merge(local)
			}()
		}
		wg.Wait()
		rate := float64(n.Load()) / time.Since(start).Seconds()
		d := lat.dist()
		r.baseline[fmt.Sprintf("pg_insert_%d", conc)] = rate
		res.add(fmt.Sprintf("Postgres single-row INSERT, %d conn(s)", conc), round(rate, 0), "rows/s").note("p50 %s ms, p99 %s ms", num(d.P50), num(d.P99))
		setDetail(res, fmt.Sprintf("postgres_insert_%d", conc), d)
	}

	// What batching would reach: 100 rows per statement (one commit) on
	// only 4 connections.
	r.progress("Postgres INSERT of 100 rows per statement, 4 connections")
	var rows atomic.Int64
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idv, chv, bodyv := make([]string, 100), make([]string, 100), make([]string, 100)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				for i := range idv {
					idv[i], chv[i], bodyv[i] = ids.New(ids.Message), "ch_x", string(sendBody)
				}
				if _, err := pool.Exec(ctx, `INSERT INTO bench (id, channel_id, body) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
					idv, chv, bodyv); err != nil {
					if ctx.Err() == nil {
						panic(err)
					}
					return
				}
				rows.Add(100)
			}
		}()
	}
	wg.Wait()
	rate := float64(rows.Load()) / time.Since(start).Seconds()
	r.baseline["pg_insert_batched"] = rate
	res.add("Postgres INSERT, 100 rows per commit, 4 conns", round(rate, 0), "rows/s")

	// The price of a commit: the same single-row insert without waiting
	// for the WAL flush.
	r.progress("Postgres single-row INSERT, 1 connection, synchronous_commit off")
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
		return err
	}
	var lat samples
	deadline = time.Now().Add(dur)
	start = time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		t := time.Now()
		if _, err := conn.Exec(ctx, `INSERT INTO bench (id, channel_id, body) VALUES ($1, $2, $3)`, ids.New(ids.Message), "ch_x", sendBody); err != nil {
			return err
		}
		lat.add(time.Since(t))
	}
	d := lat.dist()
	rate = float64(d.N) / time.Since(start).Seconds()
	_, _ = conn.Exec(ctx, "RESET synchronous_commit")
	res.add("Postgres single-row INSERT, 1 conn, synchronous_commit off (no WAL flush wait)", round(rate, 0), "rows/s").note("p50 %s ms", num(d.P50))
	return nil
}

// setDetail adds a named detail to the scenario's JSON.
func setDetail(res *result, key string, v any) {
	m, _ := res.Details.(map[string]any)
	if m == nil {
		m = map[string]any{}
		res.Details = m
	}
	m[key] = v
}
