package worker

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/wagate/wagate/pkg/presence"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
)

// A channel's settings (send rate, warm-up, typing, media, calls,
// presence) live in its row, which the mailbox reads when the channel
// starts. The API announces every change of a channel on
// names.ChannelsChanged (core NATS, as it does for its own caches); the
// worker running the channel reads the row again in the channel's
// mailbox, so a new send rate applies to the messages already waiting for
// their slot. An announcement lost to a NATS disconnection is caught up by
// the next send once the row is older than Config.RowMaxAge, or by the
// next start.

// listenChannelChanges subscribes to the API's announcements; the returned
// function unsubscribes.
func (w *Worker) listenChannelChanges() func() {
	sub, err := w.cfg.Bus.Conn.Subscribe(w.cfg.Bus.Names.ChannelsChanged(), w.onChannelChanged)
	if err != nil {
		w.log.Warn("cannot follow channel changes; changed settings apply at the next start or within "+w.cfg.RowMaxAge.String()+" of the next send", "err", err)
		return func() {}
	}
	return func() { _ = sub.Unsubscribe() }
}

// onChannelChanged queues a reload in the mailbox of the announced channel
// if this worker runs it; an empty id means every channel.
func (w *Worker) onChannelChanged(m *nats.Msg) {
	id := string(m.Data)
	for _, sr := range w.snapshot() {
		if sr.ctx.Err() != nil || (id != "" && shard.Of(id, w.cfg.Shards) != sr.k) {
			continue
		}
		for _, cr := range sr.running(id) {
			cr.enqueue(job{internal: jobReload})
		}
	}
}

// running returns the runtime of channel id if the shard has one, or of
// every channel when id is empty; it creates none.
func (sr *shardRun) running(id string) []*channelRun {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if id != "" {
		if cr, ok := sr.channels[id]; ok {
			return []*channelRun{cr}
		}
		return nil
	}
	out := make([]*channelRun, 0, len(sr.channels))
	for _, cr := range sr.channels {
		out = append(out, cr)
	}
	return out
}

// reload reads the channel's row again after the API changed it, plans
// the waiting sends again under the new settings, and tells WhatsApp the
// channel's presence if settings.presence.online changed.
func (c *channelRun) reload(ctx context.Context) {
	if c.row == nil {
		return // never read: its first use reads it
	}
	wasOnline := presence.SettingsOf(c.row.Settings).IsOnline()
	if _, err := c.load(ctx); err != nil {
		c.log.Warn("cannot read the changed channel; its new settings apply from its next send", "err", err)
		return
	}
	if c.sess == nil || c.state != state.Active {
		return
	}
	c.pumpSoon()
	if presence.SettingsOf(c.row.Settings).IsOnline() != wasOnline {
		c.announcePresence(ctx)
	}
}
