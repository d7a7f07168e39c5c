package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
)

// The accept path groups the sends that arrive together: while one batch
// is being written, the next requests queue, and a writer takes all of
// them (up to acceptBatch) in one INSERT and one commit. There is no
// timer: a lone request is written at once, a burst shares commits. The
// wake-ups of a batch are one per channel, published asynchronously and
// awaited together: a wake-up only tells the channel's owner to look at
// its queue, and the owner sends the whole queue.
const (
	acceptBatch   = 256
	acceptWriters = 4
	wakeTimeout   = 5 * time.Second
)

// acceptResult is what a writer tells a waiting request.
type acceptResult struct {
	createdAt time.Time // zero: not inserted (a replay, or an error)
	err       error
}

type acceptReq struct {
	m    *store.Message
	done chan acceptResult
}

// acceptor owns the writers.
type acceptor struct {
	st  *store.Store
	bus *bus.Bus
	log *slog.Logger
	in  chan acceptReq

	once sync.Once
}

func newAcceptor(st *store.Store, b *bus.Bus, log *slog.Logger) *acceptor {
	return &acceptor{st: st, bus: b, log: log, in: make(chan acceptReq, acceptBatch*acceptWriters)}
}

func (a *acceptor) start() {
	for range acceptWriters {
		go a.write()
	}
}

// enqueue stores m as queued, sharing the commit with the sends that
// arrive meanwhile, and publishes its channel's wake-up. A zero time
// without error means the row was not inserted: its idempotency key was
// used before, and the caller answers a replay.
func (a *acceptor) enqueue(ctx context.Context, m *store.Message) (time.Time, error) {
	a.once.Do(a.start)
	done := make(chan acceptResult, 1)
	select {
	case a.in <- acceptReq{m: m, done: done}:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	// Once handed over the request is written whatever happens to the
	// client: wait for the outcome so the answer tells the truth.
	r := <-done
	return r.createdAt, r.err
}

// write is one writer: it takes what is waiting, writes it, and answers.
// Writers run for the life of the process; they hold no resource while
// idle but a blocked goroutine.
func (a *acceptor) write() {
	batch := make([]acceptReq, 0, acceptBatch)
	for first := range a.in {
		batch = append(batch[:0], first)
	more:
		for len(batch) < acceptBatch {
			select {
			case r := <-a.in:
				batch = append(batch, r)
			default:
				break more
			}
		}
		a.flush(batch)
		clear(batch)
	}
}

func (a *acceptor) flush(batch []acceptReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms := make([]*store.Message, len(batch))
	for i, r := range batch {
		ms[i] = r.m
	}
	created, err := a.st.EnqueueMessages(ctx, ms)
	if err != nil && len(batch) > 1 && httpapi.Unavailable(err) == nil {
		// One row failed the batch (a channel deleted meanwhile, a value
		// the database refuses): write them one by one so only that send
		// fails, never another tenant's. An outage fails them all at once.
		if !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("a batch of sends failed; writing them one by one", "count", len(batch), "err", err)
		}
		for _, r := range batch {
			stored, created, err := a.st.EnqueueMessage(ctx, r.m)
			var at time.Time
			if err == nil && created {
				at = stored.CreatedAt
				a.wake([]*store.Message{stored})
			}
			r.done <- acceptResult{createdAt: at, err: ignoreReplay(err)}
		}
		return
	}
	if err != nil {
		for _, r := range batch {
			r.done <- acceptResult{err: err}
		}
		return
	}
	var fresh []*store.Message
	for i, at := range created {
		if !at.IsZero() {
			fresh = append(fresh, ms[i])
		}
	}
	// Answer first: the answer does not depend on the wake-up (a stored
	// send is accepted either way), so no request waits for its PubAck.
	for i, r := range batch {
		r.done <- acceptResult{createdAt: created[i]}
	}
	a.wake(fresh)
}

// ignoreReplay: a reused key is answered by the caller's replay path.
func ignoreReplay(err error) error {
	if errors.Is(err, store.ErrIdempotencyMismatch) {
		return nil
	}
	return err
}

// wake publishes one wake-up per channel of ms (de-duplicated by the
// channel's last message id) without waiting: a goroutine collects the
// acknowledgements and logs the failures. A wake-up that fails leaves its
// messages stored, and their channel's owner sends them when it next looks
// at the queue (its next wake-up, at the latest when the channel resumes);
// a retry with the same Idempotency-Key wakes it again.
func (a *acceptor) wake(ms []*store.Message) {
	if len(ms) == 0 {
		return
	}
	last := map[string]*store.Message{}
	order := []string{}
	for _, m := range ms {
		if _, ok := last[m.ChannelID]; !ok {
			order = append(order, m.ChannelID)
		}
		last[m.ChannelID] = m
	}
	futures := make([]jetstream.PubAckFuture, 0, len(order))
	for _, ch := range order {
		m := last[ch]
		f, err := a.publish(m)
		if err != nil {
			a.log.Warn("sends stored but their wake-up was not published", "channel_id", ch, "message_id", m.ID, "err", err)
			continue
		}
		futures = append(futures, f)
	}
	if len(futures) == 0 {
		return
	}
	go a.awaitAcks(futures)
}

func (a *acceptor) awaitAcks(futures []jetstream.PubAckFuture) {
	timeout := time.NewTimer(wakeTimeout)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			a.log.Warn("sends stored but their wake-up was not stored", "subject", f.Msg().Subject, "err", err)
		case <-timeout.C:
			a.log.Warn("sends stored but their wake-ups were not acknowledged in time", "timeout", wakeTimeout)
			return
		}
	}
}

func (a *acceptor) publish(m *store.Message) (jetstream.PubAckFuture, error) {
	body, _ := json.Marshal(command.Envelope{MessageID: m.ID, RequestedAt: time.Now().UTC()})
	return a.bus.PublishCommandAsync(m.ChannelID, command.Send, m.ID, body)
}
