package worker

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/store"
)

// Status changes of the worker's channels are written together: a
// channel's mailbox hands its steps (the sends of a pump turn, a group of
// receipts) to the worker's advances and waits for the outcome, and the
// writers record what all channels handed over meanwhile with one
// statement per status (store.AdvanceMany). A channel sees about
// rate/channels receipts a second, too few to share a statement within
// its own mailbox; across channels, a busy worker records hundreds per
// commit. The mailbox waits, so a channel's events keep their order.
const (
	// advanceWriters bounds the statements in flight; requests that
	// arrive while they run wait and share the next one. One writer is
	// group commit at its simplest, and measured best: with four, more
	// statements ran at once on two cores with fewer steps each, and end
	// to end fell from about 2,000 to 1,300 msg/s with 202 → sent at
	// 150–200 ms instead of 40–50 (go run ./bench -only e2e).
	advanceWriters = 1
	// maxAdvanceSteps bounds the steps of one statement.
	maxAdvanceSteps = 1024
	advanceTimeout  = 10 * time.Second
)

type advanceReq struct {
	channelID, status string
	why               store.Failure
	shard             int
	steps             []store.Step
	// announce builds the events of the messages that changed; they are
	// written in the statement's transaction (the outbox) and returned in
	// events.
	announce func(changed []*store.Message) ([]event.Envelope, error)
	changed  []*store.Message
	events   []event.Envelope
	err      error
	done     chan struct{}
}

// advances batches the status changes of a worker's channels. It holds no
// goroutine while idle: the first request starts a writer, which exits
// when nothing waits.
type advances struct {
	st *store.Store

	mu      sync.Mutex
	pending []*advanceReq
	writers int
}

// advance records steps of channelID's messages with the events announce
// builds for those that changed, in one transaction, and returns the
// messages that changed and their events.
func (a *advances) advance(shard int, channelID, status string, why store.Failure, steps []store.Step,
	announce func([]*store.Message) ([]event.Envelope, error)) ([]*store.Message, []event.Envelope, error) {
	r := &advanceReq{shard: shard, channelID: channelID, status: status, why: why, steps: steps, announce: announce, done: make(chan struct{})}
	a.mu.Lock()
	a.pending = append(a.pending, r)
	start := a.writers < advanceWriters
	if start {
		a.writers++
	}
	a.mu.Unlock()
	if start {
		go a.write()
	}
	<-r.done
	return r.changed, r.events, r.err
}

func (a *advances) write() {
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.writers--
			a.mu.Unlock()
			return
		}
		// Take everything waiting, up to maxAdvanceSteps, and write one
		// statement per status: a channel's mailbox waits for its own
		// request, so requests of every status are waiting together.
		n, k := 0, 0
		for k < len(a.pending) && (k == 0 || n+len(a.pending[k].steps) <= maxAdvanceSteps) {
			n += len(a.pending[k].steps)
			k++
		}
		taken := append([]*advanceReq(nil), a.pending[:k]...)
		left := copy(a.pending, a.pending[k:])
		clear(a.pending[left:])
		a.pending = a.pending[:left]
		a.mu.Unlock()
		for len(taken) > 0 {
			first := taken[0]
			var batch, rest []*advanceReq
			for _, r := range taken {
				if r.status == first.status && r.why == first.why && !sameChannel(batch, r.channelID) {
					batch = append(batch, r)
				} else {
					rest = append(rest, r)
				}
			}
			a.run(batch)
			taken = rest
		}
	}
}

// sameChannel: a channel waits for its request, so it has at most one
// waiting; checked anyway, as AdvanceMany needs one group per channel.
func sameChannel(batch []*advanceReq, channelID string) bool {
	for _, r := range batch {
		if r.channelID == channelID {
			return true
		}
	}
	return false
}

func (a *advances) run(batch []*advanceReq) {
	groups := make([]store.ChannelSteps, len(batch))
	for i, r := range batch {
		groups[i] = store.ChannelSteps{ChannelID: r.channelID, Steps: r.steps}
	}
	ctx, cancel := context.WithTimeout(context.Background(), advanceTimeout)
	defer cancel()
	events := make([][]event.Envelope, len(batch))
	out, err := a.st.AdvanceAnnounced(ctx, batch[0].status, batch[0].why, groups, func(g int, changed []*store.Message) ([]store.OutboxEvent, error) {
		r := batch[g]
		if r.announce == nil {
			return nil, nil
		}
		evs, err := r.announce(changed)
		if err != nil {
			return nil, err
		}
		events[g] = evs
		ob := make([]store.OutboxEvent, len(evs))
		for i, ev := range evs {
			ob[i] = store.OutboxEvent{Shard: r.shard, Event: ev}
		}
		return ob, nil
	})
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.changed, r.events = out[i], events[i]
		}
		close(r.done)
	}
}
