package worker

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// recordChatChange applies a change of a chat's settings (package chats)
// and writes chat.updated in the same transaction when the chat changed;
// once committed the event is published. A write that fails is retried
// until it lands or the shard stops.
func (c *channelRun) recordChatChange(ctx context.Context, ch chats.Change) error {
	var evs []event.Envelope
	err := c.retry("recording a chat change", func() error {
		evs = nil
		return c.sr.w.cfg.Store.WriteAnnounced(ctx, func(tx pgx.Tx) ([]store.OutboxEvent, error) {
			u, err := chats.Record(ctx, tx, c.id, ch)
			if err != nil || u == nil {
				return nil, err
			}
			ev, err := c.outboxEvent(chats.EventUpdated, u)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev.Event)
			return []store.OutboxEvent{ev}, nil
		})
	})
	if err != nil {
		return err
	}
	c.sr.w.published(ctx, evs)
	return nil
}

// onChatUpdated records a chat.updated session event: a change made on
// the phone (or the echo of one this channel made).
func (c *channelRun) onChatUpdated(ctx context.Context, e session.Inbound) error {
	var ch chats.Change
	if err := json.Unmarshal(e.Data, &ch); err != nil || ch.Chat == "" {
		c.log.Warn("chat change with unreadable data; dropped")
		e.Acknowledge(nil)
		return nil
	}
	err := c.recordChatChange(ctx, ch)
	e.Acknowledge(err)
	return err
}
