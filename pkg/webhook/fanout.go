package webhook

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/names"
)

// fanoutBatch is the most events taken from WA_EVT in one pull.
const fanoutBatch = 128

// Payload is the body of every webhook request: the event envelope and
// the event's sequence in WA_EVT (also sent as webhook-sequence).
type Payload struct {
	event.Envelope
	Seq uint64 `json:"seq"`
}

// fanned is an event whose delivery messages are being stored.
type fanned struct {
	msg     jetstream.Msg
	futures []jetstream.PubAckFuture
}

// fanout turns each event of WA_EVT into one message per matching enabled
// endpoint on WA_WEBHOOK (Nats-Msg-Id event_id:endpoint_id, so a repeated
// fan-out stores nothing twice) and acks the event once every message is
// stored. Publishing is asynchronous; a second goroutine waits for the
// PubAcks, so the fan-out is not one round trip per event.
func (d *Dispatcher) fanout(ctx context.Context, cons jetstream.Consumer) {
	pending := make(chan fanned, 4*fanoutBatch)
	var acker sync.WaitGroup
	acker.Go(func() {
		for f := range pending {
			d.settleFanned(f)
		}
	})
	defer acker.Wait()
	defer close(pending)
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		batch, err := cons.Fetch(fanoutBatch, jetstream.FetchContext(fctx))
		if err == nil {
			for m := range batch.Messages() {
				if f, ok := d.fanOne(ctx, m); ok {
					pending <- f
				}
			}
			if fctx.Err() == nil {
				err = batch.Error()
			}
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			d.log.Warn("fetching events for webhook fan-out", "error", err)
			sleep(ctx, 500*time.Millisecond)
		}
	}
}

// fanOne publishes the delivery messages of one event; ok is false when
// the event needed no delivery and has been settled already.
func (d *Dispatcher) fanOne(ctx context.Context, m jetstream.Msg) (fanned, bool) {
	meta, err := m.Metadata()
	if err != nil {
		d.log.Error("event without JetStream metadata", "subject", m.Subject(), "error", err)
		_ = m.Term()
		return fanned{}, false
	}
	metricFanoutLag.Set(time.Since(meta.Timestamp).Seconds())
	metricFanoutPending.Set(float64(meta.NumPending))
	var ev event.Envelope
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.ID == "" || ev.Type == "" {
		d.log.Error("malformed event in WA_EVT; no webhook for it", "subject", m.Subject(), "seq", meta.Sequence.Stream)
		_ = m.Term()
		return fanned{}, false
	}
	if ev.ChannelID == "" {
		ev.ChannelID, _, _ = d.names.ParseEvt(m.Subject())
	}
	d.noteChanges()
	if err := d.cache.refresh(ctx); err != nil {
		// A stale cache is still better than stalling every event.
		d.log.Warn("reloading webhook endpoints", "error", err)
	}
	endpoints := d.cache.matching(ev.ChannelID, ev.Type)
	if len(endpoints) == 0 {
		_ = m.Ack()
		return fanned{}, false
	}
	body, err := json.Marshal(Payload{Envelope: ev, Seq: meta.Sequence.Stream})
	if err != nil {
		d.log.Error("encoding a webhook payload", "event_id", ev.ID, "error", err)
		_ = m.Term()
		return fanned{}, false
	}
	f := fanned{msg: m}
	seq := strconv.FormatUint(meta.Sequence.Stream, 10)
	for _, ep := range endpoints {
		out := &nats.Msg{Subject: d.names.Webhook(ep.ID), Data: body, Header: nats.Header{}}
		out.Header.Set(names.HeaderMsgID, d.names.WebhookDeliveryID(ev.ID, ep.ID))
		out.Header.Set(names.HeaderEventID, ev.ID)
		out.Header.Set(names.HeaderEventType, ev.Type)
		out.Header.Set(names.HeaderChannel, ev.ChannelID)
		out.Header.Set(names.HeaderEventSeq, seq)
		fut, err := d.cfg.Bus.JS.PublishMsgAsync(out)
		if err != nil {
			// Redelivered at once; messages stored already are de-duplicated.
			d.log.Warn("publishing a webhook delivery", "event_id", ev.ID, "endpoint_id", ep.ID, "error", err)
			_ = m.NakWithDelay(infraRetry)
			return fanned{}, false
		}
		f.futures = append(f.futures, fut)
	}
	return f, true
}

// settleFanned acks an event once all its delivery messages are stored, or
// NAKs it for a new fan-out.
func (d *Dispatcher) settleFanned(f fanned) {
	timeout := time.NewTimer(publishTimeout)
	defer timeout.Stop()
	for _, fut := range f.futures {
		select {
		case <-fut.Ok():
			metricFanoutDeliveries.Inc()
		case err := <-fut.Err():
			d.log.Warn("storing a webhook delivery", "subject", fut.Msg().Subject, "error", err)
			_ = f.msg.NakWithDelay(infraRetry)
			return
		case <-timeout.C:
			d.log.Warn("no acknowledgement storing a webhook delivery", "subject", fut.Msg().Subject)
			_ = f.msg.NakWithDelay(infraRetry)
			return
		}
	}
	_ = f.msg.Ack()
}
