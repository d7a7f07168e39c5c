package worker

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// onHistoryConversation imports one conversation of a history sync
// (package history) in one transaction, with a history.message event per
// message newly recorded. The driver sends the next conversation only
// after the acknowledgement, which comes once the import committed.
func (c *channelRun) onHistoryConversation(ctx context.Context, e session.Inbound) error {
	var conv history.Conversation
	if err := json.Unmarshal(e.Data, &conv); err != nil || conv.Chat == "" {
		c.log.Warn("history conversation with unreadable data; dropped")
		e.Acknowledge(nil)
		return nil
	}
	var s json.RawMessage
	if c.row != nil {
		s = c.row.Settings
	}
	days := history.Days(s)
	since := time.Now().AddDate(0, 0, -days)
	if days == 0 {
		since = time.Now().Add(time.Hour) // a window of no days imports no message
	}
	var (
		res history.Result
		evs []event.Envelope
	)
	err := c.retry("importing a history conversation", func() error {
		evs = evs[:0]
		var err error
		res, err = history.Import(ctx, c.sr.w.cfg.Store, c.id, conv, since, func(m *store.Message) (store.OutboxEvent, error) {
			var data map[string]any
			if err := json.Unmarshal(m.Body, &data); err != nil || data == nil {
				data = map[string]any{}
			}
			data["message_id"] = m.ID
			ev, err := c.outboxEvent(history.EventMessage, data)
			if err == nil {
				evs = append(evs, ev.Event)
			}
			return ev, err
		})
		return err
	})
	e.Acknowledge(err)
	if err != nil {
		return err
	}
	c.history.Messages += res.Messages
	c.history.Skipped += res.Skipped
	c.historyConvs++
	c.sr.w.published(ctx, evs)
	return nil
}

// onHistoryChunk publishes history.sync_progress for the chunk just
// imported, through the outbox.
func (c *channelRun) onHistoryChunk(ctx context.Context, e session.Inbound) error {
	var ch history.Chunk
	_ = json.Unmarshal(e.Data, &ch) // an unreadable chunk still reports its counts
	p := history.Progress{SyncType: ch.SyncType, Chunk: ch.Chunk, Progress: ch.Progress, Conversations: c.historyConvs,
		Messages: c.history.Messages, Skipped: c.history.Skipped, Timestamp: time.Now().UTC()}
	c.history, c.historyConvs = history.Result{}, 0
	ev, err := c.outboxEvent(history.EventProgress, p)
	if err != nil {
		e.Acknowledge(nil)
		return nil
	}
	if err := c.retry("recording history progress", func() error {
		return c.sr.w.cfg.Store.WriteOutbox(ctx, []store.OutboxEvent{ev})
	}); err != nil {
		e.Acknowledge(err)
		return err
	}
	e.Acknowledge(nil)
	c.sr.w.published(ctx, []event.Envelope{ev.Event})
	return nil
}
