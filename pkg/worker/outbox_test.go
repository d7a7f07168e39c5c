package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// killAtPublish makes rw's process "die" between the commit of a state
// change and the publication of its events, at the first batch holding an
// event that match accepts: that batch and everything after it is never
// published, as after a SIGKILL at that instant. It returns the id of the
// event it withheld once that happened.
func killAtPublish(rw *runningWorker, match func(event.Envelope) bool) <-chan string {
	hit := make(chan string, 1)
	var (
		mu   sync.Mutex
		dead bool
	)
	worker.SetBeforePublish(rw.w, func(evs []event.Envelope) bool {
		mu.Lock()
		defer mu.Unlock()
		if dead {
			return false
		}
		for _, ev := range evs {
			if match(ev) {
				dead = true
				hit <- ev.ID
				return false
			}
		}
		return true
	})
	return hit
}

// noRelay keeps the dying worker's own relay from publishing what the
// kill withheld, as a dead process would not.
func noRelay(c *worker.Config) { c.SweepEvery = time.Hour }

// crashAfterCommitThenTakeOver kills worker a at the instant after the
// commit of an event that match accepts and before its publication, starts
// worker b, and checks that b publishes exactly that event, exactly once.
func crashAfterCommitThenTakeOver(t *testing.T, f *fleet, a *runningWorker, hit <-chan string, ch string, match func(event.Envelope) bool) {
	t.Helper()
	var withheld string
	select {
	case withheld = <-hit:
	case <-time.After(20 * time.Second):
		t.Fatal("the event was never committed")
	}
	a.crash()
	for _, ev := range f.events(ch) {
		require.NotEqual(t, withheld, ev.ID, "the killed worker published the withheld event")
	}
	n, err := f.store.OutboxSize(context.Background())
	require.NoError(t, err)
	require.Positive(t, n, "the withheld event waits in the outbox")

	f.startWorker("b")
	testenv.Eventually(t, 10*f.ttl+10*time.Second, func() bool {
		for _, ev := range f.events(ch) {
			if ev.ID == withheld {
				return true
			}
		}
		return false
	}, "the next owner to publish the withheld event")
	testenv.Eventually(t, 10*time.Second, func() bool {
		n, err := f.store.OutboxSize(context.Background())
		return err == nil && n == 0
	}, "the outbox to be emptied once published")
	same := 0
	for _, ev := range f.events(ch) {
		if ev.ID == withheld {
			same++
			require.True(t, match(ev))
		}
	}
	require.Equal(t, 1, same, "the withheld event is stored in WA_EVT exactly once")
}

func TestMessageReadCommittedBeforeACrashIsPublishedOnceByTheNextOwner(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	a := f.startWorkerWith("a", noRelay)
	ch := f.pairedChannel("read")
	isRead := func(ev event.Envelope) bool { return ev.Type == event.MessageRead && ev.ChannelID == ch }
	hit := killAtPublish(a, isRead)
	id := f.send(ch, "k1", "hello")
	crashAfterCommitThenTakeOver(t, f, a, hit, ch, isRead)
	require.Equal(t, store.StatusRead, f.message(ch, id).Status)
	require.Equal(t, 1, countType(f.events(ch), event.MessageRead), "one message.read")
	require.Equal(t, 1, countType(f.events(ch), event.MessageSent), "one message.sent")
}

func TestStatusChangeCommittedBeforeACrashIsPublishedOnceByTheNextOwner(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	a := f.startWorkerWith("a", noRelay)
	ch := f.pairedChannel("stopped")
	toInactive := func(ev event.Envelope) bool {
		return ev.Type == event.ConnectionStatusChanged && ev.ChannelID == ch && strings.Contains(string(ev.Data), `"to":"inactive"`)
	}
	hit := killAtPublish(a, toInactive)
	f.command(ch, command.Stop, command.Envelope{})
	crashAfterCommitThenTakeOver(t, f, a, hit, ch, toInactive)
	require.Equal(t, state.Inactive, f.state(ch))
}

func TestInboundMessageCommittedBeforeACrashIsPublishedOnceByTheNextOwner(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	a := f.startWorkerWith("a", noRelay)
	ch := f.pairedChannel("inbound")
	received := func(ev event.Envelope) bool { return ev.Type == event.MessageReceived && ev.ChannelID == ch }
	hit := killAtPublish(a, received)
	f.sim(ch, sim.ActionInbound, map[string]string{"id": "3AOUTBOX1", "from": "15553334444", "text": "are you there?"})
	crashAfterCommitThenTakeOver(t, f, a, hit, ch, received)
	require.Equal(t, 1, countType(f.events(ch), event.MessageReceived))
	msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{Direction: "inbound"})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "the inbound message is recorded once")
}

// A send committed by the API whose wake-up never reached NATS (the API
// died in between) is found by its owner's sweep and sent.
func TestQueuedMessageWhoseWakeUpWasLostIsSentByTheOwnersSweep(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorkerWith("a", func(c *worker.Config) {
		c.SweepEvery, c.StaleQueued = 100*time.Millisecond, 300*time.Millisecond
	})
	ch := f.pairedChannel("swept")
	req := messaging.Request{To: "15550001111", Type: messaging.TypeText, Text: "no wake-up"}
	require.Nil(t, req.Validate())
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: ch, IdempotencyKey: "lost", Chat: req.To, Type: req.Type, Body: mustMarshal(t, req)}
	_, _, err := f.store.EnqueueMessage(context.Background(), m) // and no send command
	require.NoError(t, err)
	testenv.Eventually(t, 20*time.Second, func() bool { return f.message(ch, m.ID).Status == store.StatusRead }, "the message to be sent and read")
	require.Equal(t, int64(1), f.deliveries(m.ID), "sent once")
	require.Equal(t, 1, countType(f.events(ch), event.MessageSent))
}

// logWatch is a slog handler that reports records whose message and
// attributes contain all of a set of strings.
type logWatch struct {
	slog.Handler
	mu    *sync.Mutex
	wants *[]logWant
}

type logWant struct {
	parts []string
	hit   chan struct{}
}

func newLogWatch(h slog.Handler) *logWatch {
	return &logWatch{Handler: h, mu: &sync.Mutex{}, wants: &[]logWant{}}
}

// await returns a channel closed when a record containing every part is logged.
func (l *logWatch) await(parts ...string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := logWant{parts: parts, hit: make(chan struct{})}
	*l.wants = append(*l.wants, w)
	return w.hit
}

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }

func (l *logWatch) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	line := b.String()
	l.mu.Lock()
	kept := (*l.wants)[:0]
	for _, w := range *l.wants {
		all := true
		for _, p := range w.parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			close(w.hit)
		} else {
			kept = append(kept, w)
		}
	}
	*l.wants = kept
	l.mu.Unlock()
	if l.Handler.Enabled(ctx, r.Level) {
		return l.Handler.Handle(ctx, r)
	}
	return nil
}

func (l *logWatch) WithAttrs(as []slog.Attr) slog.Handler {
	return &logWatch{Handler: l.Handler.WithAttrs(as), mu: l.mu, wants: l.wants}
}

func (l *logWatch) WithGroup(name string) slog.Handler {
	return &logWatch{Handler: l.Handler.WithGroup(name), mu: l.mu, wants: l.wants}
}

// cutDatabase makes the fleet's database refuse every connection and
// closes those open, as a Postgres outage would for this test alone (the
// shared server keeps running); the returned function ends the outage.
func cutDatabase(t *testing.T, dsn string) (restore func()) {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	ident := pgx.Identifier{name}.Sanitize()
	_, err = admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	require.NoError(t, err)
	var once sync.Once
	restore = func() {
		once.Do(func() {
			_, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true")
			require.NoError(t, err)
			_ = admin.Close(ctx)
		})
	}
	t.Cleanup(restore)
	return restore
}

// Receipts that arrive while Postgres is unreachable are retried until
// they land: none is dropped, and each is published once.
func TestReceiptsDuringAPostgresOutageLandAfterwards(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	// Both receipts come together 1 s after a send (scaled), so the
	// outage starts between the send and its receipts.
	f.simTune = func(c *sim.Config) { c.DeliveredAfter, c.ReadAfter = 100*time.Second, 100*time.Second }
	watch := newLogWatch(f.log.Handler())
	a := f.startWorkerWith("a", func(c *worker.Config) { c.Logger = slog.New(watch) })
	_ = a
	ch := f.pairedChannel("outage")
	id := f.send(ch, "k1", "through the outage")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusSent }, "the message to be sent")

	failed := watch.await("retrying until it lands", "as delivered")
	restore := cutDatabase(t, f.dsn)
	select {
	case <-failed:
	case <-time.After(20 * time.Second):
		t.Fatal("the receipts never reached the worker during the outage")
	}
	landed := watch.await("write landed after retries", "as delivered")
	restore()
	select {
	case <-landed:
	case <-time.After(30 * time.Second):
		t.Fatal("the delivered receipt did not land after the outage")
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return f.message(ch, id).Status == store.StatusRead }, "the message to be read")
	m := f.message(ch, id)
	require.NotNil(t, m.DeliveredAt, "the delivered receipt landed too")
	testenv.Eventually(t, 10*time.Second, func() bool {
		evs := f.events(ch)
		return countType(evs, event.MessageDelivered) == 1 && countType(evs, event.MessageRead) == 1
	}, "message.delivered and message.read to be published")
	evs := f.events(ch)
	require.Equal(t, 1, countType(evs, event.MessageDelivered))
	require.Equal(t, 1, countType(evs, event.MessageRead))
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
