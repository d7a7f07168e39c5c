package worker

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wagate/wagate/pkg/calls"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// onCall follows an incoming call (package calls): it remembers the
// caller so the call can be rejected by its id, and rejects it at once
// when the channel's settings ask for it (reject_calls), publishing
// call.rejected and queueing the reply text (reject_calls_reply) to the
// caller as an ordinary message, once per call.
func (c *channelRun) onCall(ctx context.Context, e session.Inbound) {
	var o calls.Offer
	if json.Unmarshal(e.Data, &o) != nil || !o.IsOffer() {
		return
	}
	cfg := c.sr.w.cfg
	if err := calls.Remember(ctx, cfg.Redis, cfg.Keys, c.id, o.ID, o.From, o.FromLID); err != nil {
		c.log.Warn("cannot remember a call; it can be rejected with its caller given", "call_id", o.ID, "err", err)
	}
	if c.row == nil || c.sess == nil {
		return
	}
	s := calls.SettingsOf(c.row.Settings)
	if !s.Reject {
		return
	}
	res, err := calls.Reject(ctx, c.sess, o.ID, o.From, calls.ByAuto)
	if err != nil {
		c.log.Warn("cannot reject a call", "call_id", o.ID, "err", err)
		return
	}
	res.FromLID = o.FromLID
	if s.Reply != "" && o.Group == "" {
		res.ReplyMessageID = c.queueCallReply(ctx, o, s.Reply)
	}
	c.announce(ctx, res)
}

// announce records a feature result's event in the outbox and publishes
// it (the relay publishes it if this fails), like the inbound events.
func (c *channelRun) announce(ctx context.Context, a announcer) {
	typ, data := a.Event()
	ev, err := c.outboxEvent(typ, data)
	if err != nil {
		c.log.Error("cannot encode event", "type", typ, "err", err)
		return
	}
	if err := c.retry("recording "+typ, func() error {
		return c.sr.w.cfg.Store.WriteOutbox(ctx, []store.OutboxEvent{ev})
	}); err != nil {
		c.log.Error("event not recorded", "type", typ, "err", err)
		return
	}
	c.sr.w.published(ctx, []event.Envelope{ev.Event})
}

// queueCallReply queues text to the caller of o and returns the message's
// id ("" when it could not be queued). The call's id is the idempotency
// key: a call handled twice (a redelivered event) gets one reply.
func (c *channelRun) queueCallReply(ctx context.Context, o calls.Offer, text string) string {
	raw, _ := json.Marshal(messaging.Request{To: o.From, Type: "text", Text: text})
	req, verr := messaging.Parse(raw)
	if verr != nil {
		c.log.Warn("call reply not queued", "call_id", o.ID, "err", verr.Message)
		return ""
	}
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: c.id, IdempotencyKey: "call-reply:" + o.ID,
		Chat: req.To, Type: req.Type, Body: mustJSON(req)}
	stored, _, err := c.sr.w.cfg.Store.EnqueueMessage(ctx, m)
	if err != nil && !errors.Is(err, store.ErrIdempotencyMismatch) {
		c.log.Warn("call reply not queued", "call_id", o.ID, "err", err)
		return ""
	}
	c.pumpSoon()
	if stored != nil {
		return stored.ID
	}
	return m.ID
}
