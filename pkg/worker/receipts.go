package worker

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// Receipts arrive one message at a time, a burst of them after every burst
// of sends. The mailbox records the receipts of a burst with one statement
// per status: a session's receipts wait up to receiptWindow in the channel
// before they are queued as one job, and drain merges receipt jobs that
// wait next to each other in the queue. Any other event of the session
// queues the held receipts first, so the order of a session's events is
// kept, except among receipts: those of one status are recorded together,
// in the order delivered, read, played, which is the order a message goes
// through. Receipts are recorded even when their session was closed or
// replaced since: they report what the phone did, and a status only moves
// forward.

// receiptWindow is how long the first held receipt waits for others.
const receiptWindow = 5 * time.Millisecond

// maxCoalesced bounds the message ids recorded by one receipt job.
const maxCoalesced = 512

// heldReceipts are receipts waiting for receiptWindow; guarded by c.mu.
type heldReceipts struct {
	receipts []session.Inbound
	ids      int
	timer    *time.Timer
}

// receiptStatuses are the message statuses receipts report, by event type.
var receiptStatuses = map[string]string{
	event.MessageDelivered: store.StatusDelivered, event.MessageRead: store.StatusRead, event.MessagePlayed: store.StatusPlayed,
	event.MessageFailed: store.StatusFailedAfterSent,
}

// isReceipt reports whether ev is a receipt naming messages.
func isReceipt(ev session.Event) bool {
	in, ok := ev.(session.Inbound)
	return ok && receiptStatuses[in.Type] != "" && len(in.MessageIDs) > 0
}

// fromSession queues an event of session generation gen, holding receipts
// back for receiptWindow.
func (c *channelRun) fromSession(gen uint64, ev session.Event) {
	c.mu.Lock()
	if !isReceipt(ev) {
		start := c.releaseHeld()
		start = c.push(job{ev: ev, gen: gen}) || start
		c.mu.Unlock()
		c.startDrain(start)
		return
	}
	in := ev.(session.Inbound)
	c.held.receipts = append(c.held.receipts, in)
	c.held.ids += len(in.MessageIDs)
	start := false
	switch {
	case c.held.ids >= maxCoalesced:
		start = c.releaseHeld()
	case c.held.timer == nil:
		c.held.timer = time.AfterFunc(receiptWindow, func() {
			c.mu.Lock()
			start := false
			if c.sr.ctx.Err() == nil {
				start = c.releaseHeld()
			}
			c.mu.Unlock()
			c.startDrain(start)
		})
	}
	c.mu.Unlock()
	c.startDrain(start)
}

// releaseHeld queues the held receipts as one job and reports whether a
// drain goroutine must start; c.mu is held.
func (c *channelRun) releaseHeld() bool {
	if c.held.timer != nil {
		c.held.timer.Stop()
		c.held.timer = nil
	}
	if len(c.held.receipts) == 0 {
		return false
	}
	j := job{receipts: c.held.receipts}
	c.held.receipts, c.held.ids = nil, 0
	return c.push(j)
}

// coalesceReceipts adds to receipt job j the receipt jobs right behind it
// in the queue; c.mu is held.
func (c *channelRun) coalesceReceipts(j job) job {
	n := 0
	for _, r := range j.receipts {
		n += len(r.MessageIDs)
	}
	for len(c.queue) > 0 && n < maxCoalesced {
		next := c.queue[0]
		if len(next.receipts) == 0 {
			break
		}
		c.pop()
		j.receipts = append(j.receipts, next.receipts...)
		for _, r := range next.receipts {
			n += len(r.MessageIDs)
		}
	}
	return j
}

// receiptOrder is the order in which the statuses of coalesced receipts
// are recorded. A server-error receipt (message.failed) goes first: when a
// delivered or read receipt of the same message came with it, a recipient
// has the message, and that is what the log keeps.
var receiptOrder = []string{event.MessageFailed, event.MessageDelivered, event.MessageRead, event.MessagePlayed}

// onReceipts records receipts with one statement per status, each message
// at its receipt's time, and acknowledges each receipt to its session
// (session.Inbound.Ack) once its status change and the events announcing
// it are committed: a receipt not acknowledged is delivered again by
// WhatsApp on the next connection, whichever worker holds it. A write is
// retried until it lands; when the shard stops first (or its epoch is
// stale), nothing more is recorded nor acknowledged, so that the shard's
// next owner gets the receipts again. A receipt recorded twice changes
// nothing, since a status only moves forward.
func (c *channelRun) onReceipts(ctx context.Context, receipts []session.Inbound) {
	if h := c.sr.w.cfg.beforeReceipts; h != nil && !h(c.id) {
		return
	}
	for _, typ := range receiptOrder {
		var (
			steps []store.Step
			of    []session.Inbound
		)
		for _, e := range receipts {
			if e.Type != typ {
				continue
			}
			of = append(of, e)
			at := e.At
			if at.IsZero() {
				at = time.Now()
			}
			var d struct {
				ChatLID string `json:"chat_lid"`
			}
			_ = json.Unmarshal(e.Data, &d) // a receipt without data names no LID
			for _, id := range e.MessageIDs {
				steps = append(steps, store.Step{ID: id, At: at, ChatLID: d.ChatLID})
			}
		}
		if len(steps) == 0 {
			continue
		}
		reason := ""
		if typ == event.MessageFailed {
			reason = "WhatsApp's server could not deliver the message (server-error receipt)"
		}
		err := c.advance(ctx, receiptStatuses[typ], reason, steps)
		if err != nil && c.stopping(err) {
			return
		}
		for _, e := range of {
			e.Acknowledge(err)
		}
	}
}

// stopping reports whether a write failed because the shard stops or
// passed to another worker, when what it recorded must not be
// acknowledged.
func (c *channelRun) stopping(err error) bool {
	return c.sr.ctx.Err() != nil || errors.Is(err, errShardStopped) || errors.Is(err, store.ErrStaleEpoch)
}
