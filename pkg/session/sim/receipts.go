package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
)

// Receipts of sent messages are delivered at least once, as WhatsApp
// queues them for an offline device and delivers again what a device did
// not acknowledge. Send stores every receipt the phone will send for the
// message (delivered, read, played for voice notes), each with the time
// it is due, in the device's receipts hash in Redis
// (names.Redis.SimReceipts), in the same transaction that counts the
// delivery. A connected session emits each receipt when it is due,
// carrying an Ack; a new connection of the device, on any worker, emits
// the receipts already due right after Connected (after the pending
// inbound messages) and schedules the others. A receipt leaves the hash
// only when it is acknowledged; an Ack with an error closes the connection
// (Disconnected{Reason: "inbound_not_recorded"}), as for inbound messages.
// Timers still belong to one connection; what they would have emitted
// waits in Redis for the next one. A receipt may so be emitted twice
// (acknowledged after the next connection loaded it): a message's status
// only moves forward, so the second changes nothing.

// pendingReceipt is one receipt the phone will send, as stored in Redis.
type pendingReceipt struct {
	ID   string `json:"id"`
	Chat string `json:"chat"`
	// ChatLID is the chat's LID when the contact is addressed by LID: the
	// phone's receipts then come from its LID, and the whatsmeow driver
	// reports both forms.
	ChatLID string `json:"chat_lid,omitempty"`
	Status  string `json:"status"`
	// Due is when the phone sends it (wall clock: the timers run on it).
	Due time.Time `json:"due"`
	// At is its timestamp, on Config.Now's clock.
	At time.Time `json:"at"`
}

// field names the receipt in the device's hash.
func (p pendingReceipt) field() string { return p.ID + "/" + p.Status }

// statusOrder orders receipts due together as a phone sends them.
var statusOrder = map[string]int{"delivered": 0, "read": 1, "played": 2}

// receipt is the pending receipts of one message on the connection, in
// due order, with one timer for the next: a message's receipts are
// emitted in order (delivered, read, played) whatever the load.
type receipt struct {
	timer *time.Timer
	due   []pendingReceipt
}

// receiptsOf are the receipts of a message sent now: delivered after
// DeliveredAfter, read after ReadAfter, played with read for voice notes;
// none when DeliveredAfter is negative, delivered only when ReadAfter is.
func (s *Session) receiptsOf(id, chat, chatLID string, voice bool) []pendingReceipt {
	cfg := s.d.cfg
	if cfg.DeliveredAfter < 0 {
		return nil
	}
	wall, now := time.Now(), cfg.Now()
	at := func(status string, after time.Duration) pendingReceipt {
		d := cfg.scale(after)
		return pendingReceipt{ID: id, Chat: chat, ChatLID: chatLID, Status: status, Due: wall.Add(d), At: now.Add(d)}
	}
	out := []pendingReceipt{at("delivered", cfg.DeliveredAfter)}
	if cfg.ReadAfter >= 0 {
		out = append(out, at("read", cfg.ReadAfter))
		if voice {
			out = append(out, at("played", cfg.ReadAfter))
		}
	}
	return out
}

// storeReceipts adds the receipts of device jid to the pipeline p.
func storeReceipts(ctx context.Context, p redis.Pipeliner, keys names.Redis, jid string, rs []pendingReceipt) error {
	if len(rs) == 0 {
		return nil
	}
	values := make([]any, 0, 2*len(rs))
	for _, r := range rs {
		raw, err := json.Marshal(r)
		if err != nil {
			return err
		}
		values = append(values, r.field(), raw)
	}
	key := keys.SimReceipts(jid)
	p.HSet(ctx, key, values...)
	p.Expire(ctx, key, pendingTTL)
	return nil
}

// pendingReceipts loads the unacknowledged receipts of device jid, in the
// order they fall due.
func (s *Session) pendingReceipts(ctx context.Context, jid string) ([]pendingReceipt, error) {
	all, err := s.d.cfg.Redis.HGetAll(ctx, s.d.cfg.Keys.SimReceipts(jid)).Result()
	if err != nil {
		return nil, fmt.Errorf("load pending receipts: %w", err)
	}
	out := make([]pendingReceipt, 0, len(all))
	for _, raw := range all {
		var r pendingReceipt
		if json.Unmarshal([]byte(raw), &r) == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case !a.Due.Equal(b.Due):
			return a.Due.Before(b.Due)
		case a.ID != b.ID:
			return a.ID < b.ID
		}
		return statusOrder[a.Status] < statusOrder[b.Status]
	})
	return out, nil
}

// dueReceiptsLocked splits rs (in due order) into the events of those due
// by now, each with its Ack, and arms timers of connection gen for the
// others. Called with mu held, on a connected session.
func (s *Session) dueReceiptsLocked(gen uint64, rs []pendingReceipt) []session.Event {
	now := time.Now()
	var evs []session.Event
	for len(rs) > 0 && !rs[0].Due.After(now) {
		evs = append(evs, s.receiptInbound(rs[0]))
		rs = rs[1:]
	}
	s.armReceiptsLocked(gen, rs)
	return evs
}

// armReceiptsLocked arms a timer of connection gen for each message of
// rs (in due order).
func (s *Session) armReceiptsLocked(gen uint64, rs []pendingReceipt) {
	byID := make(map[string]*receipt)
	for _, p := range rs {
		r := byID[p.ID]
		if r == nil {
			r = &receipt{}
			byID[p.ID] = r
		}
		r.due = append(r.due, p)
	}
	if len(byID) > 0 && s.receipts == nil {
		s.receipts = make(map[*receipt]struct{}, len(byID))
	}
	for _, r := range byID {
		s.receipts[r] = struct{}{}
		r.timer = time.AfterFunc(time.Until(r.due[0].Due), func() { s.receiptDue(gen, r) })
	}
}

// receiptDue emits the receipts of r due by now (at least its next one)
// when its connection is still up, and arms the timer for the rest.
func (s *Session) receiptDue(gen uint64, r *receipt) {
	s.mu.Lock()
	if _, ok := s.receipts[r]; !ok || s.gen != gen {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	n := 1
	for n < len(r.due) && !r.due[n].Due.After(now) {
		n++
	}
	evs := make([]session.Event, n)
	for i, p := range r.due[:n] {
		evs[i] = s.receiptInbound(p)
	}
	if r.due = r.due[n:]; len(r.due) > 0 {
		r.timer.Reset(time.Until(r.due[0].Due))
	} else {
		delete(s.receipts, r)
	}
	start := s.post(evs...)
	s.mu.Unlock()
	if start {
		s.drain()
	}
}

// stopReceiptsLocked stops the connection's receipt timers; the receipts
// stay pending in Redis for the next connection.
func (s *Session) stopReceiptsLocked() {
	for r := range s.receipts {
		r.timer.Stop()
	}
	s.receipts = nil
}

// receiptInbound is the event of pending receipt p of the session's
// device, with its Ack. Called with mu held.
func (s *Session) receiptInbound(p pendingReceipt) session.Inbound {
	ev := receiptEvent(p.ID, p.Chat, p.ChatLID, "", p.Status, p.At)
	jid, field := s.jid, p.field()
	ev.Ack = func(err error) {
		if err != nil {
			s.log.Warn("receipt not recorded; closing the connection so that it comes again", "id", p.ID, "status", p.Status, "err", err)
			s.notRecorded(jid)
			return
		}
		s.acks.clear(s, s.d.cfg.Keys.SimReceipts(jid), field)
	}
	return ev
}

// receiptAcks batches the deletions of acknowledged receipts, so that the
// worker's Ack does not wait for Redis: at most one goroutine per session
// deletes, one pipeline per round, what was acknowledged meanwhile. A
// deletion not done yet (or failed) means the receipt comes again on the
// next connection, which changes nothing.
type receiptAcks struct {
	mu       sync.Mutex
	fields   map[string][]string // key → fields acknowledged, not deleted yet
	flushing bool
}

func (a *receiptAcks) clear(s *Session, key, field string) {
	a.mu.Lock()
	if a.fields == nil {
		a.fields = make(map[string][]string)
	}
	a.fields[key] = append(a.fields[key], field)
	start := !a.flushing
	a.flushing = true
	a.mu.Unlock()
	if start {
		go a.flush(s)
	}
}

func (a *receiptAcks) flush(s *Session) {
	for {
		a.mu.Lock()
		batch := a.fields
		a.fields = nil
		if len(batch) == 0 {
			a.flushing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.d.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
			for key, fields := range batch {
				p.HDel(ctx, key, fields...)
			}
			return nil
		})
		cancel()
		if err != nil {
			s.log.Warn("cannot clear acknowledged receipts; they come again on the next connection", "err", err)
		}
	}
}

// PendingReceipts counts the receipts of device jid not yet acknowledged
// (due or not), for tests and diagnostics.
func PendingReceipts(ctx context.Context, rdb *redis.Client, keys names.Redis, jid string) (int64, error) {
	return rdb.HLen(ctx, keys.SimReceipts(jid)).Result()
}
