package worker

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// Internal jobs a channel schedules for itself.
const (
	jobResume    = "resume"
	jobReconnect = "reconnect"
	jobShutdown  = "shutdown"
	jobPump      = "pump"
	// jobReload reads the channel's row again: the API changed it
	// (settings.go).
	jobReload = "reload"
)

// job is one unit of a channel's mailbox: a command, a session event, a
// request, or an internal job.
type job struct {
	verb     string
	msg      jetstream.Msg
	ev       session.Event
	gen      uint64            // session generation the event belongs to
	receipts []session.Inbound // receipts recorded together (receipts.go)
	internal string
	req      *request     // a wa.rpc request (rpc.go)
	media    *store.Media // a media download to start (media.go)
}

// enqueueCommand queues a command unless the mailbox holds MailboxSize
// commands already.
func (c *channelRun) enqueueCommand(verb string, msg jetstream.Msg) bool {
	c.mu.Lock()
	if c.commands >= c.sr.w.cfg.MailboxSize {
		c.mu.Unlock()
		return false
	}
	c.commands++
	c.mu.Unlock()
	c.enqueue(job{verb: verb, msg: msg})
	return true
}

// enqueue appends j and makes sure a goroutine drains the mailbox. Events
// and internal jobs are never refused: they are few per session.
func (c *channelRun) enqueue(j job) {
	c.mu.Lock()
	start := c.push(j)
	c.mu.Unlock()
	c.startDrain(start)
}

// push appends j to the queue and reports whether a goroutine must be
// started to drain it (startDrain, after c.mu is released); c.mu is held.
func (c *channelRun) push(j job) bool {
	c.queue = append(c.queue, j)
	start := !c.running
	c.running = true
	return start
}

func (c *channelRun) startDrain(start bool) {
	if start {
		c.sr.wg.Add(1)
		go c.drain()
	}
}

// drain handles jobs until the mailbox is empty, then exits, so an idle
// channel costs no goroutine.
func (c *channelRun) drain() {
	defer c.sr.wg.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		j := c.pop()
		switch {
		case j.msg != nil:
			c.commands--
		case j.internal == jobPump:
			c.pumpQueued = false
		case len(j.receipts) > 0:
			j = c.coalesceReceipts(j)
		}
		c.mu.Unlock()
		c.handle(j)
	}
}

// pop takes the first job of the queue; c.mu is held.
func (c *channelRun) pop() job {
	j := c.queue[0]
	c.queue[0] = job{}
	c.queue = c.queue[1:]
	return j
}

// kick wakes the mailbox so it notices the shard stopped.
func (c *channelRun) kick() { c.enqueue(job{internal: jobShutdown}) }
