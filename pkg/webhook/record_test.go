package webhook

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/testenv"
)

// recordBundle is a database with one endpoint, for the recording tests.
type recordBundle struct {
	db    db
	cfg   Config
	epID  string
	owner string
}

func setupRecord(t *testing.T) *recordBundle {
	t.Helper()
	st, _ := testenv.Store(t, 4)
	box, _ := testenv.SecretBox(t)
	d := db{pool: st.Pool, box: box}
	ep, err := d.createEndpoint(context.Background(), &Endpoint{
		ID: ids.New(ids.Webhook), URL: "https://example.com/hook", Events: []string{"*"}, Headers: map[string]string{},
		Enabled: true, Secret: NewSecret(),
	})
	require.NoError(t, err)
	cfg := Config{Schedule: []time.Duration{time.Minute, time.Hour}}.WithDefaults()
	return &recordBundle{db: d, cfg: cfg, epID: ep.ID, owner: "test-owner"}
}

func (rb *recordBundle) freshJob() *job {
	ev := ids.New(ids.Event)
	return &job{deliveryID: ids.New(ids.Delivery), isNew: true, endpointID: rb.epID, channelID: "ch_x",
		eventID: ev, eventType: "message.received", seq: 9, payload: []byte(`{"id":"` + ev + `"}`)}
}

type deliveryRow struct {
	status   string
	attempts int
	logged   int
	next     *time.Time
}

func (rb *recordBundle) row(t *testing.T, j *job) deliveryRow {
	t.Helper()
	var r deliveryRow
	require.NoError(t, rb.db.pool.QueryRow(context.Background(), `SELECT status, attempts, next_attempt_at,
		(SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id)
		FROM webhook_deliveries d WHERE endpoint_id = $1 AND event_id = $2`, j.endpointID, j.eventID).
		Scan(&r.status, &r.attempts, &r.next, &r.logged))
	return r
}

func ok200() *result {
	return &result{outcome: outcomeDelivered, statusCode: 200, latency: time.Millisecond, snippet: "ok"}
}

// recordAll writes, in one go and in order, what record writes one by one:
// 2xx of fresh and claimed deliveries through the grouped statements, a
// 2xx for a delivery recorded already (logged only), failures with their
// schedule and the endpoint's streak, and the end of the streak by a
// later success.
func TestRecordAllWritesWhatRecordWrites(t *testing.T) {
	t.Parallel()
	rb := setupRecord(t)
	ctx := context.Background()

	// A delivery claimed from Postgres, and one recorded already (a
	// redelivered message whose first copy was recorded by another
	// dispatcher).
	claimed := rb.freshJob()
	_, err := rb.db.deferJob(ctx, claimed, StatusPending, nil, "")
	require.NoError(t, err)
	got, err := rb.db.claim(ctx, rb.owner, time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	claimed = got[0]
	dup := rb.freshJob()
	_, err = rb.db.deferJob(ctx, dup, StatusPending, nil, "")
	require.NoError(t, err)
	dupAgain := *dup
	dupAgain.deliveryID = ids.New(ids.Delivery)

	fresh1, fresh2, failed, later := rb.freshJob(), rb.freshJob(), rb.freshJob(), rb.freshJob()
	recs := []attemptRecord{
		{j: fresh1, r: ok200()},
		{j: claimed, r: ok200()},
		{j: &dupAgain, r: ok200()},
		{j: failed, r: &result{outcome: outcomeFailed, statusCode: 500, err: "receiver answered 500", latency: time.Millisecond}},
		{j: fresh2, r: ok200()},
	}
	outs, err := rb.db.recordAll(ctx, rb.owner, &rb.cfg, recs)
	require.NoError(t, err)
	require.Len(t, outs, len(recs))

	require.Equal(t, StatusDelivered, outs[0].status)
	require.Equal(t, deliveryRow{status: StatusDelivered, attempts: 1, logged: 1}, rb.row(t, fresh1))
	require.Equal(t, StatusDelivered, outs[1].status)
	require.Equal(t, deliveryRow{status: StatusDelivered, attempts: 1, logged: 1}, rb.row(t, claimed))
	require.Empty(t, outs[2].status, "recorded already: the attempt is only logged")
	require.Equal(t, deliveryRow{status: StatusPending, attempts: 0, logged: 1, next: rb.row(t, dup).next}, rb.row(t, dup))
	require.Equal(t, StatusFailed, outs[3].status)
	require.NotNil(t, outs[3].backoffUntil, "the failure starts a backoff")
	f := rb.row(t, failed)
	require.Equal(t, StatusFailed, f.status)
	require.NotNil(t, f.next, "retry scheduled")
	require.Equal(t, 1, f.logged)
	require.Equal(t, StatusDelivered, outs[4].status)

	// The success after the failure, in the same write, ended the streak.
	var streak int
	var backoff *time.Time
	require.NoError(t, rb.db.pool.QueryRow(ctx, `SELECT consecutive_failures, backoff_until FROM webhook_endpoints WHERE id = $1`, rb.epID).
		Scan(&streak, &backoff))
	require.Zero(t, streak)
	require.Nil(t, backoff)

	// A failure alone leaves it failing.
	outs, err = rb.db.recordAll(ctx, rb.owner, &rb.cfg, []attemptRecord{
		{j: later, r: &result{outcome: outcomeFailed, statusCode: 503, err: "receiver answered 503"}},
	})
	require.NoError(t, err)
	require.NotNil(t, outs[0].backoffUntil)
	require.NoError(t, rb.db.pool.QueryRow(ctx, `SELECT consecutive_failures FROM webhook_endpoints WHERE id = $1`, rb.epID).Scan(&streak))
	require.Equal(t, 1, streak)
}

// The recorder groups results that arrive together into one write and
// calls each one's done only once its write committed: a done (which
// acks the delivery message) always finds its row in Postgres.
func TestRecorderCallsDoneAfterCommit(t *testing.T) {
	t.Parallel()
	rb := setupRecord(t)
	rc := newRecorder(rb.db, rb.owner, &rb.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go rc.run()

	const n = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	var missing []string
	for range n {
		j := rb.freshJob()
		wg.Add(1)
		rc.add(&recording{attemptRecord: attemptRecord{j: j, r: ok200()}, done: func(out recordOut, err error) {
			defer wg.Done()
			var status string
			qerr := rb.db.pool.QueryRow(context.Background(), `SELECT status FROM webhook_deliveries WHERE id = $1`, j.deliveryID).Scan(&status)
			if err != nil || out.status != StatusDelivered || qerr != nil || status != StatusDelivered {
				mu.Lock()
				missing = append(missing, j.deliveryID)
				mu.Unlock()
			}
		}})
	}
	wg.Wait()
	rc.stop()
	require.Empty(t, missing, "done ran before its row was committed, or it failed")

	var writes int
	require.NoError(t, rb.db.pool.QueryRow(context.Background(),
		`SELECT count(DISTINCT xmin::text) FROM webhook_deliveries WHERE endpoint_id = $1`, rb.epID).Scan(&writes))
	require.Less(t, writes, n/2, "results written in groups, not one transaction each")
	t.Logf("%d results in %d transactions", n, writes)
}

// A result the group cannot write (here: a delivery of an endpoint that
// does not exist) fails alone; the others of its group are written.
func TestRecorderIsolatesABadResult(t *testing.T) {
	t.Parallel()
	rb := setupRecord(t)
	rc := newRecorder(rb.db, rb.owner, &rb.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	good, bad := rb.freshJob(), rb.freshJob()
	bad.endpointID = "whk_missing"
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	// Both are queued before the recorder runs, so they share a write.
	for i, j := range []*job{good, bad} {
		rc.add(&recording{attemptRecord: attemptRecord{j: j, r: ok200()}, done: func(_ recordOut, err error) {
			errs[i] = err
			wg.Done()
		}})
	}
	go rc.run()
	wg.Wait()
	rc.stop()
	require.NoError(t, errs[0])
	require.Error(t, errs[1])
	require.Equal(t, StatusDelivered, rb.row(t, good).status)
}

// Results that queued while the recorder was busy are past their linger:
// they are all written in the next group, not one or two at a time (a
// select between them and the expired linger timer once picked at random,
// and a backlog was recorded two results per transaction).
func TestRecorderWritesWhatQueuedInOneGroup(t *testing.T) {
	t.Parallel()
	rb := setupRecord(t)
	rc := newRecorder(rb.db, rb.owner, &rb.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const n = 200 // under recordBatch and the channel's capacity
	var wg sync.WaitGroup
	wg.Add(n)
	for range n {
		rc.add(&recording{attemptRecord: attemptRecord{j: rb.freshJob(), r: ok200()}, done: func(_ recordOut, err error) {
			assert.NoError(t, err)
			wg.Done()
		}})
	}
	time.Sleep(2 * recordLinger) // every result is past its linger
	go rc.run()
	wg.Wait()
	rc.stop()
	var writes int
	require.NoError(t, rb.db.pool.QueryRow(context.Background(),
		`SELECT count(DISTINCT xmin::text) FROM webhook_deliveries WHERE endpoint_id = $1`, rb.epID).Scan(&writes))
	require.Equal(t, 1, writes, "%d results queued before the recorder ran are one write", n)
}

// A failing endpoint is probed with one delivery at a time, the one
// waiting longest even when its own retry is not due: a second dispatcher
// gets none while the probe is out. A failed early probe leaves the
// delivery's schedule alone and the next probe waits twice as long; a
// success makes every waiting delivery due at once. Time passes by
// moving the endpoint's backoff in Postgres.
func TestClaimProbesAFailingEndpoint(t *testing.T) {
	t.Parallel()
	rb := setupRecord(t) // schedule 1 min, 1 h; probes from 1 s
	ctx := context.Background()
	fail := func() *result { return &result{outcome: outcomeFailed, statusCode: 500, err: "receiver answered 500"} }
	windowPasses := func() {
		_, err := rb.db.pool.Exec(ctx, `UPDATE webhook_endpoints SET backoff_until = now() WHERE id = $1`, rb.epID)
		require.NoError(t, err)
	}
	backoffSeconds := func() float64 {
		var s float64
		require.NoError(t, rb.db.pool.QueryRow(ctx, `SELECT extract(epoch FROM backoff_until - now()) FROM webhook_endpoints WHERE id = $1`, rb.epID).Scan(&s))
		return s
	}

	jobs := []*job{rb.freshJob(), rb.freshJob(), rb.freshJob()}
	var recs []attemptRecord
	for _, j := range jobs {
		recs = append(recs, attemptRecord{j: j, r: fail()})
	}
	_, err := rb.db.recordAll(ctx, rb.owner, &rb.cfg, recs)
	require.NoError(t, err)
	require.InDelta(t, 1, backoffSeconds(), 0.5, "the first probe comes after ProbeInterval, not the schedule's minute")
	got, err := rb.db.claim(ctx, rb.owner, time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Empty(t, got, "nothing while the endpoint backs off")

	windowPasses()
	got, err = rb.db.claim(ctx, rb.owner, time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Len(t, got, 1, "one probe")
	probe := got[0]
	require.True(t, probe.probe)
	require.True(t, probe.early, "its own retry is a minute away")
	require.NotNil(t, probe.dueAt)
	other, err := rb.db.claim(ctx, "other-owner", time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Empty(t, other, "no second probe while one is out")

	outs, err := rb.db.recordAll(ctx, rb.owner, &rb.cfg, []attemptRecord{{j: probe, r: fail()}})
	require.NoError(t, err)
	require.Equal(t, StatusFailed, outs[0].status)
	row := rb.row(t, probe)
	require.Equal(t, 1, row.attempts, "an early probe does not count against the schedule")
	require.WithinDuration(t, *probe.dueAt, *row.next, time.Millisecond, "the delivery keeps its retry time")
	require.Equal(t, 2, row.logged)
	var probes int
	require.NoError(t, rb.db.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_attempts WHERE probe`).Scan(&probes))
	require.Equal(t, 1, probes)
	require.InDelta(t, 2, backoffSeconds(), 0.5, "the next probe waits twice as long")

	windowPasses()
	got, err = rb.db.claim(ctx, rb.owner, time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	_, err = rb.db.recordAll(ctx, rb.owner, &rb.cfg, []attemptRecord{{j: got[0], r: ok200()}})
	require.NoError(t, err)
	require.Equal(t, StatusDelivered, rb.row(t, got[0]).status)

	// Healed: the others are due now, a minute early, and all of them
	// are claimed at once.
	got, err = rb.db.claim(ctx, "other-owner", time.Minute, 10, 4, 64, nil, nil)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, j := range got {
		require.False(t, j.probe)
		require.False(t, j.early)
	}
}
