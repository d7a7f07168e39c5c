package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/wagate/wagate/pkg/session"
)

// Inbound messages are delivered at least once, as WhatsApp delivers them
// to a client that acknowledges a message only after recording it (the
// whatsmeow driver with SynchronousAck): a message is kept in the device's
// pending hash in Redis (names.Redis.SimPending) from the moment the phone
// sends it until the worker acknowledges it, and every new connection of
// the device delivers what is pending right after Connected. An Ack with
// an error closes the connection (Disconnected{Reason:
// "inbound_not_recorded"}), so that the worker reconnects and the message
// comes again.

// pendingTTL is how long an unacknowledged message waits for a
// connection, as WhatsApp keeps a device's offline queue for weeks.
const pendingTTL = 14 * 24 * time.Hour

// pendingEvent is a pending message as stored in Redis.
type pendingEvent struct {
	Type  string            `json:"type"`
	Data  json.RawMessage   `json:"data"`
	At    time.Time         `json:"at"`
	Media *session.MediaRef `json:"media,omitempty"`
}

// deliverInbound stores message id of the connected device as pending and
// emits it with its acknowledgement.
func (s *Session) deliverInbound(ctx context.Context, id string, ev session.Inbound) error {
	s.mu.Lock()
	jid, gen, connectedNow := s.jid, s.gen, s.phase == connected
	s.mu.Unlock()
	if !connectedNow {
		return session.ErrNotConnected
	}
	raw, err := json.Marshal(pendingEvent{Type: ev.Type, Data: ev.Data, At: ev.At, Media: ev.Media})
	if err != nil {
		return err
	}
	key := s.d.cfg.Keys.SimPending(jid)
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HSet(ctx, key, id, raw)
	pipe.Expire(ctx, key, pendingTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("store the pending message: %w", err)
	}
	ev.Ack = s.acker(jid, id)
	s.mu.Lock()
	if s.gen != gen || s.phase != connected {
		// Closed meanwhile: the message waits for the next connection.
		s.mu.Unlock()
		return nil
	}
	start := s.post(ev)
	s.mu.Unlock()
	s.kick(start)
	return nil
}

// acker is the Ack of pending message id of device jid.
func (s *Session) acker(jid, id string) func(error) {
	return func(err error) {
		if err != nil {
			s.log.Warn("inbound message not recorded; closing the connection so that it comes again", "id", id, "err", err)
			s.notRecorded(jid)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.d.cfg.Redis.HDel(ctx, s.d.cfg.Keys.SimPending(jid), id).Err(); err != nil {
			// Delivered again on the next connection; the worker drops the
			// duplicate by its WhatsApp id.
			s.log.Warn("cannot clear an acknowledged message", "id", id, "err", err)
		}
	}
}

// notRecorded drops the connection of device jid after a failed Ack.
func (s *Session) notRecorded(jid string) {
	s.mu.Lock()
	if s.jid != jid || s.phase != connected {
		s.mu.Unlock()
		return
	}
	m := s.closeLocked()
	start := s.post(session.Disconnected{Reason: session.ReasonInboundNotRecorded})
	s.mu.Unlock()
	s.kick(start)
	s.d.releaseDetached(m)
}

// pendingInbound loads the unacknowledged messages of device jid, oldest
// first, each with its acknowledgement. A Redis failure delivers none now;
// they wait for the next connection.
func (s *Session) pendingInbound(ctx context.Context, jid string) []session.Event {
	all, err := s.d.cfg.Redis.HGetAll(ctx, s.d.cfg.Keys.SimPending(jid)).Result()
	if err != nil {
		s.log.Warn("cannot load pending inbound messages", "err", err)
		return nil
	}
	type entry struct {
		id string
		ev pendingEvent
	}
	entries := make([]entry, 0, len(all))
	for id, raw := range all {
		var ev pendingEvent
		if json.Unmarshal([]byte(raw), &ev) == nil {
			entries = append(entries, entry{id, ev})
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].ev.At.Equal(entries[j].ev.At) {
			return entries[i].ev.At.Before(entries[j].ev.At)
		}
		return entries[i].id < entries[j].id
	})
	out := make([]session.Event, len(entries))
	for i, e := range entries {
		out[i] = session.Inbound{Type: e.ev.Type, Data: e.ev.Data, At: e.ev.At, Media: e.ev.Media, Ack: s.acker(jid, e.id)}
	}
	return out
}
