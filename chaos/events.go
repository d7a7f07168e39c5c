package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/names"
)

// statusEvents are the events every sent message is expected to have, in
// the order of its statuses.
var statusEvents = []string{event.MessageSent, event.MessageDelivered, event.MessageRead}

// published is one status event as stored in WA_EVT.
type published struct {
	id, typ, messageID string
	stored             time.Time // JetStream's timestamp
}

// readEvents returns the status events stored in WA_EVT since from.
// It reads with the dispatcher's credential, the role that consumes
// events.
func readEvents(ctx context.Context, natsURL, creds string, from time.Time) ([]published, error) {
	nc, err := nats.Connect(natsURL, nats.Name("wagate-chaos"), nats.UserCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	n := names.NewNATS("")
	var filters []string
	for _, t := range statusEvents {
		filters = append(filters, n.Evt("*", t))
	}
	cons, err := js.OrderedConsumer(ctx, n.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: filters, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &from,
	})
	if err != nil {
		return nil, fmt.Errorf("read WA_EVT: %w", err)
	}
	var out []published
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("read WA_EVT: %w", err)
		}
		got, pending := 0, uint64(0)
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			pending = meta.NumPending
			var ev struct {
				ID   string `json:"id"`
				Type string `json:"type"`
				Data struct {
					MessageID string `json:"message_id"`
				} `json:"data"`
			}
			if json.Unmarshal(m.Data(), &ev) == nil {
				out = append(out, published{id: ev.ID, typ: ev.Type, messageID: ev.Data.MessageID, stored: meta.Timestamp})
			}
		}
		if batch.Error() != nil {
			return nil, fmt.Errorf("read WA_EVT: %w", batch.Error())
		}
		if got == 0 || pending == 0 {
			return out, nil
		}
	}
	return nil, ctx.Err()
}
