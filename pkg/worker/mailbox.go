package worker

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/session"
)

// Internal jobs a channel schedules for itself.
const (
	jobResume    = "resume"
	jobReconnect = "reconnect"
	jobShutdown  = "shutdown"
	jobPump      = "pump"
)

// job is one unit of a channel's mailbox: a command, a session event, a
// request, or an internal job.
type job struct {
	verb     string
	msg      jetstream.Msg
	ev       session.Event
	gen      uint64 // session generation the event belongs to
	internal string
	req      *request // a wa.rpc request (rpc.go)
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
	c.queue = append(c.queue, j)
	start := !c.running
	c.running = true
	c.mu.Unlock()
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
		j := c.queue[0]
		c.queue[0] = job{}
		c.queue = c.queue[1:]
		if j.msg != nil {
			c.commands--
		}
		c.mu.Unlock()
		c.handle(j)
	}
}

// kick wakes the mailbox so it notices the shard stopped.
func (c *channelRun) kick() { c.enqueue(job{internal: jobShutdown}) }
