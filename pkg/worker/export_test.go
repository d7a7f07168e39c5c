package worker

import "github.com/wagate/wagate/pkg/event"

// BeforeInbound sets a hook that runs before an inbound message is
// recorded; returning false stops there, as a process killed at that
// instant would.
func BeforeInbound(f func(channel string) bool) func(*Config) {
	return func(c *Config) { c.beforeInbound = f }
}

// BeforeReceipts sets a hook that runs before receipts are recorded;
// returning false stops there, as a process killed at that instant would.
func BeforeReceipts(f func(channel string) bool) func(*Config) {
	return func(c *Config) { c.beforeReceipts = f }
}

// SetBeforePublish installs a hook that runs between the commit of a
// state change and the publication of its events; false skips the
// publication, as a process killed at that instant would.
func SetBeforePublish(w *Worker, f func([]event.Envelope) bool) { w.beforePublish.Store(&f) }
