package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/ratelimit"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// reader and presencer are optional session capabilities.
type reader interface {
	MarkRead(ctx context.Context, chat, sender string, ids []string) error
}

type presencer interface {
	SendPresence(ctx context.Context, state, chat string) error
}

// MessageStatus is the data of message.sent, .delivered, .read, .played
// and .failed.
type MessageStatus struct {
	MessageID string `json:"message_id"`
	WAID      string `json:"wa_id,omitempty"`
	Chat      string `json:"chat"`
	// ChatLID is the LID WhatsApp addressed the chat by, once a receipt
	// named it (the message row's chat_lid).
	ChatLID string `json:"chat_lid,omitempty"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Code    string `json:"code,omitempty"`
	// IdempotencyKey is the key the message was sent with (message.failed).
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	At             time.Time `json:"at"`
	// Media is the file of a sent media message (message.sent).
	Media *media.Info `json:"media,omitempty"`
}

// acceptSend handles a `send` command: from the API the message is stored
// already; from NATS the body is the request, validated exactly as the API
// does, and stored with its Nats-Msg-Id as the idempotency key.
func (c *channelRun) acceptSend(ctx context.Context, j job, env command.Envelope) error {
	if env.MessageID != "" {
		c.pumpSoon()
		return nil
	}
	key := j.msg.Headers().Get(names.HeaderMsgID)
	if key == "" {
		if meta, err := j.msg.Metadata(); err == nil {
			key = "nats-seq:" + strconv.FormatUint(meta.Sequence.Stream, 10)
		}
	}
	req, verr := messaging.Parse(j.msg.Data())
	if verr != nil {
		c.publish(ctx, event.MessageFailed, MessageStatus{
			MessageID: ids.New(ids.Message), Status: store.StatusFailed, Reason: verr.Message, Code: verr.Code, IdempotencyKey: key, At: time.Now().UTC(),
		})
		return errors.Join(errPermanent, errInvalidSend, verr)
	}
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: c.id, IdempotencyKey: key, Chat: req.To, Type: req.Type, Body: mustJSON(req)}
	if _, _, err := c.sr.w.cfg.Store.EnqueueMessage(ctx, m); err != nil && !errors.Is(err, store.ErrIdempotencyMismatch) {
		return err
	}
	c.pumpSoon()
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// pumpSoon schedules the sending of the channel's queue.
func (c *channelRun) pumpSoon() { c.afterPump(0) }

// afterPump schedules a pump turn after d. A turn already waiting in the
// mailbox makes it unnecessary: that turn claims every message committed
// before it starts, and schedules what comes after it.
func (c *channelRun) afterPump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pumpQueued {
		return
	}
	if c.pumpTimer != nil {
		if d > 0 {
			return // a pump is already scheduled
		}
		c.pumpTimer.Stop()
	}
	c.pumpTimer = time.AfterFunc(d, func() {
		c.mu.Lock()
		c.pumpTimer = nil
		queue := !c.pumpQueued && c.sr.ctx.Err() == nil
		c.pumpQueued = c.pumpQueued || queue
		c.mu.Unlock()
		if queue {
			c.enqueue(job{internal: jobPump})
		}
	})
}

// maxBatch is how many queued messages one pump turn claims and sends when
// neither a send rate nor a typing indicator spaces them.
const maxBatch = 64

// pump claims the oldest queued messages when the channel is active and
// sends them in order, then schedules the next turn: one batch per mailbox
// turn, so commands interleave with a long queue. Under a send rate or a
// typing indicator a turn claims one message, and the limiter spaces them.
func (c *channelRun) pump(ctx context.Context) error {
	if c.sess == nil || c.state != state.Active {
		return nil // Connected pumps again
	}
	st := c.sr.w.cfg.Store
	if c.lookFirst {
		c.lookFirst = false
		queued, err := st.HasQueued(ctx, c.id)
		if err == nil && !queued {
			return nil // a send stored later brings its own wake-up
		}
	}
	settings := c.settings()
	plan := c.plan(time.Now())
	n := 1
	if plan.Rate.Unlimited() && settings.TypingMS == 0 {
		n = maxBatch
	}
	// Claim first, then take the rate slot right before sending, so the
	// spacing WhatsApp sees is the limiter's, not the database's.
	claimed, err := st.ClaimQueued(ctx, c.sr.fence(), c.id, n)
	if err != nil {
		c.afterPump(time.Second)
		return err
	}
	if c.claimed == nil {
		c.claimed = make(map[string]bool, len(claimed))
	}
	ours := make([]bool, len(claimed))
	for i, m := range claimed {
		ours[i] = c.claimed[m.ID]
		c.claimed[m.ID] = true
	}
	t := sendTurn{c: c, waIDs: map[string]string{}}
	defer t.record(ctx)
	for i, m := range claimed {
		var req messaging.Request
		if err := json.Unmarshal(m.Body, &req); err != nil {
			t.record(ctx)
			if err := c.fail(ctx, m.Message, "stored request is unreadable", "invalid_request"); err != nil {
				c.afterPump(time.Second)
				return err
			}
			delete(c.claimed, m.ID)
			continue
		}
		if req.TypingMS == 0 {
			req.TypingMS = settings.TypingMS
		}
		if req.TypingMS > 0 && c.typedFor != m.ID {
			if p, ok := c.sess.(presencer); ok {
				if i > 0 {
					c.pumpSoon() // it types at the start of the next turn
					return nil
				}
				_ = p.SendPresence(ctx, "composing", m.Chat)
				c.typedFor = m.ID
				c.afterPump(time.Duration(req.TypingMS) * time.Millisecond)
				return nil
			}
		}
		wait, err := c.sr.w.limiter.Reserve(ctx, c.id, plan)
		if err != nil {
			c.afterPump(time.Second)
			return err
		}
		if wait > 0 {
			c.afterPump(wait)
			return nil
		}
		if m.Previous == store.StatusSending && !ours[i] {
			// A previous owner crashed between sending and recording it. The
			// same message id goes to WhatsApp again, which recipients
			// de-duplicate by id.
			c.log.Warn("re-sending a message whose previous attempt has no outcome", "message_id", m.ID)
		}
		t.resolveReferences(ctx, &req)
		// A file sent by URL is fetched into the media store (sendmedia.go);
		// one sent as base64 waits there already (media.go).
		var stored *messaging.StoredFile
		err = c.storeURLFile(ctx, m.Message, &req)
		if err == nil && req.Media != nil {
			stored = req.Media.Stored
			err = c.loadStoredFile(ctx, m.ID, &req)
		}
		var res session.SendResult
		if err == nil {
			res, err = c.sess.Send(ctx, session.Outbound{ID: m.ID, To: m.Chat, Type: m.Type, Body: req.DriverBody()})
		}
		switch {
		case err == nil:
			at := res.Timestamp
			if at.IsZero() {
				at = time.Now()
			}
			delete(c.claimed, m.ID)
			delete(c.sendRetries, m.ID)
			t.sent = append(t.sent, store.Step{ID: m.ID, WAID: res.WAID, At: at, Payload: res.Payload, Media: sentFile(res.Media, stored)})
			t.waIDs[m.ID] = res.WAID
			c.typedFor = ""
			c.followPresence(ctx, m.Chat)
		case errors.Is(err, session.ErrNotConnected):
			return nil // retried after Connected
		default:
			// A send that can never succeed fails and lets the next one go;
			// one worth a retry waits, and fails after sendAttempts.
			code, permanent := session.FailureCode(err)
			if !permanent {
				wait, ok := c.sendRetry(m.ID)
				if ok {
					c.log.Warn("send failed; retrying", "message_id", m.ID, "in", wait.Round(time.Millisecond), "err", err)
					c.afterPump(wait)
					return nil
				}
				code = session.CodeRetriesExhausted
			}
			c.log.Warn("send failed for good", "message_id", m.ID, "code", code, "err", err)
			c.typedFor = ""
			t.record(ctx)
			if err := c.fail(ctx, m.Message, err.Error(), code); err != nil {
				c.afterPump(time.Second)
				return err
			}
			delete(c.claimed, m.ID)
			delete(c.sendRetries, m.ID)
		}
	}
	if len(claimed) == n {
		// The queue may hold more. A shorter claim emptied it: a message
		// stored after the claim brings its own wake-up.
		c.pumpSoon()
	}
	return nil
}

// sendRetry counts a failed attempt of message id worth a retry and
// returns how long to wait before the next one: exponential from
// SendRetryBase to SendRetryMax with jitter; ok is false once SendAttempts
// attempts failed. The count lives with this owner: a message that moves to
// another worker starts counting again.
func (c *channelRun) sendRetry(id string) (wait time.Duration, ok bool) {
	cfg := c.sr.w.cfg
	if c.sendRetries == nil {
		c.sendRetries = map[string]int{}
	}
	c.sendRetries[id]++
	n := c.sendRetries[id]
	if n >= cfg.SendAttempts {
		delete(c.sendRetries, id)
		return 0, false
	}
	return backoff(cfg.SendRetryBase, cfg.SendRetryMax, n), true
}

// sendTurn is the state of one pump turn: the sends not yet recorded and
// the WhatsApp ids of the messages it sent.
type sendTurn struct {
	c     *channelRun
	sent  []store.Step
	waIDs map[string]string
}

// record stores the sends of the turn so far as sent, in one statement,
// and publishes their events. A send that happened is recorded even when
// the shard is stopping.
func (t *sendTurn) record(ctx context.Context) {
	if len(t.sent) == 0 {
		return
	}
	t.c.advance(context.WithoutCancel(ctx), store.StatusSent, "", t.sent)
	t.sent = t.sent[:0]
}

// resolveReferences maps wagate message ids in a request to WhatsApp ids,
// including those of messages sent earlier in the turn and not yet recorded.
func (t *sendTurn) resolveReferences(ctx context.Context, r *messaging.Request) {
	st := t.c.sr.w.cfg.Store
	resolve := func(id *string) {
		if len(*id) <= len(ids.Message) || !strings.HasPrefix(*id, ids.Message) {
			return
		}
		if wa, ok := t.waIDs[*id]; ok && wa != "" {
			*id = wa
			return
		}
		*id = st.ResolveWAID(ctx, t.c.id, *id)
	}
	resolve(&r.ReplyTo)
	if r.Reaction != nil {
		resolve(&r.Reaction.MessageID)
	}
	if r.Edit != nil {
		resolve(&r.Edit.MessageID)
	}
	if r.Delete != nil {
		resolve(&r.Delete.MessageID)
	}
}

// fail records message m as failed with its message.failed in one
// transaction, then publishes the event.
func (c *channelRun) fail(ctx context.Context, m *store.Message, reason, code string) error {
	now := time.Now()
	var evs []event.Envelope
	changed, err := c.sr.w.cfg.Store.AdvanceAnnounced(ctx, store.StatusFailed, store.Failure{Reason: reason, Code: code},
		[]store.ChannelSteps{{ChannelID: c.id, Steps: []store.Step{{ID: m.ID, At: now}}}},
		func(_ int, changed []*store.Message) ([]store.OutboxEvent, error) {
			var out []store.OutboxEvent
			for _, m := range changed {
				e, err := c.outboxEvent(event.MessageFailed, MessageStatus{MessageID: m.ID, WAID: m.WAID, Chat: m.Chat, ChatLID: m.ChatLID, Type: m.Type,
					Status: m.Status, Reason: reason, Code: code, IdempotencyKey: m.IdempotencyKey, At: now.UTC()})
				if err != nil {
					return nil, err
				}
				out = append(out, e)
				evs = append(evs, e.Event)
			}
			return out, nil
		})
	if err != nil {
		return err
	}
	for range changed[0] {
		c.count(ctx, "failed")
	}
	c.sr.w.published(ctx, evs)
	c.checkHealth(ctx)
	return nil
}

// HealthChanged is the data of channel.health.
type HealthChanged struct {
	Score        int       `json:"score"`
	Band         string    `json:"band"`
	PreviousBand string    `json:"previous_band"`
	Reasons      []string  `json:"reasons"`
	At           time.Time `json:"at"`
}

// checkHealth recomputes the channel's health and publishes channel.health
// when its band changed.
func (c *channelRun) checkHealth(ctx context.Context) {
	if c.row == nil {
		return
	}
	row := *c.row
	row.State = c.state
	h, err := messaging.ComputeHealth(ctx, c.sr.w.cfg.Store, &row, time.Now())
	if err != nil {
		c.log.Warn("cannot compute health", "err", err)
		return
	}
	previous := c.row.HealthBand
	ev, err := c.outboxEvent(event.ChannelHealth, HealthChanged{Score: h.Score, Band: h.Band, PreviousBand: previous, Reasons: h.Reasons, At: time.Now().UTC()})
	if err != nil {
		c.log.Error("cannot encode event", "type", event.ChannelHealth, "err", err)
		return
	}
	changed, err := c.sr.w.cfg.Store.SetHealthBand(ctx, c.id, h.Band, ev)
	if err != nil || !changed {
		return
	}
	c.row.HealthBand = h.Band
	c.sr.w.published(ctx, []event.Envelope{ev.Event})
}

// advance records status changes, one per step, with one event per
// message that changed, in one transaction (shared with other channels'
// changes, advances.go), then publishes the events all at once. A failed
// write is retried until it lands (a Postgres outage drops no status) or
// the shard stops.
func (c *channelRun) advance(ctx context.Context, status, reason string, steps []store.Step) error {
	typ, shown, code := statusEvents[status], status, ""
	if status == store.StatusFailedAfterSent {
		shown, code = store.StatusFailed, session.CodeUndeliverable
	}
	// A message named twice took the earliest of its times, as the store
	// does.
	at := make(map[string]time.Time, len(steps))
	files := map[string]*store.Media{}
	for _, st := range steps {
		if t, ok := at[st.ID]; !ok || st.At.Before(t) {
			at[st.ID] = st.At
		}
		if st.Media != nil {
			files[st.ID] = st.Media
		}
	}
	announce := func(changed []*store.Message) ([]event.Envelope, error) {
		evs := make([]event.Envelope, 0, len(changed))
		now := time.Now()
		for _, m := range changed {
			t, ok := at[m.ID]
			if w, wok := at[m.WAID]; wok && (!ok || w.Before(t)) {
				t = w
			}
			data := MessageStatus{MessageID: m.ID, WAID: m.WAID, Chat: m.Chat, ChatLID: m.ChatLID, Type: m.Type, Status: shown, Reason: reason, Code: code,
				IdempotencyKey: idempotencyKeyIfFailed(shown, m.IdempotencyKey), At: t.UTC()}
			if d := files[m.ID]; d != nil {
				row := *d
				row.MessageID = m.ID
				info := mediaInfo(c.id, &row)
				data.Media = &info
			}
			ev, err := event.New(typ, c.id, c.sr.epoch, now, data)
			if err != nil {
				return nil, err
			}
			evs = append(evs, ev)
		}
		return evs, nil
	}
	var (
		changed []*store.Message
		evs     []event.Envelope
	)
	err := c.retry(fmt.Sprintf("recording %d messages as %s", len(steps), status), func() error {
		var err error
		changed, evs, err = c.sr.w.advances.advance(c.sr.k, c.id, status, store.Failure{Reason: reason, Code: code}, steps, announce)
		return err
	})
	if err != nil {
		c.log.Error("message statuses not recorded: the shard stopped while Postgres failed", "status", status, "messages", len(steps), "err", err)
		return err
	}
	for range changed {
		c.count(ctx, shown)
	}
	c.sr.w.published(ctx, evs)
	return nil
}

// statusEvents are the event types of the message statuses.
var statusEvents = map[string]string{
	store.StatusSent: event.MessageSent, store.StatusDelivered: event.MessageDelivered,
	store.StatusRead: event.MessageRead, store.StatusPlayed: event.MessagePlayed, store.StatusFailed: event.MessageFailed,
	store.StatusFailedAfterSent: event.MessageFailed,
}

// idempotencyKeyIfFailed is key for a message.failed, which names the
// send's idempotency key; "" for the other statuses.
func idempotencyKeyIfFailed(status, key string) string {
	if status == store.StatusFailed {
		return key
	}
	return ""
}

func (c *channelRun) count(ctx context.Context, counter string) {
	if counter == store.StatusPlayed {
		return
	}
	c.sr.w.usage.add(c.id, counter, time.Now())
}

// plan is the rate limit in force: the channel's settings, else the
// worker's defaults, lowered while the number warms up.
func (c *channelRun) plan(now time.Time) ratelimit.Plan {
	cfg := c.sr.w.cfg
	rate, warmup := cfg.SendRate, cfg.WarmupDays
	s := c.settings()
	if s.SendRate != nil {
		if r, err := config.ParseRate(*s.SendRate); err == nil {
			rate = r
		}
	}
	if s.WarmupDays != nil {
		warmup = *s.WarmupDays
	}
	var paired *time.Time
	if c.row != nil {
		paired = c.row.PairedAt
	}
	return ratelimit.PlanFor(rate, warmup, paired, now)
}

// onInbound records what the session received with the events that
// announce it, in one transaction, and then publishes them. Presence is
// published directly: it changes nothing stored and the next update
// supersedes it. A write that fails is retried until it lands or the
// shard stops. The event is acknowledged to the session (e.Ack) once it
// is recorded, or with the error when it could not be: WhatsApp then
// delivers it again. The error is returned too.
func (c *channelRun) onInbound(ctx context.Context, e session.Inbound) error {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	switch e.Type {
	case event.MessageDelivered, event.MessageRead, event.MessagePlayed:
		e.Acknowledge(nil)
		return nil // a receipt naming no message (the others are recorded by onReceipts)
	case event.PresenceUpdated, event.ChatPresence:
		c.publish(ctx, e.Type, e.Data)
		e.Acknowledge(nil)
		return nil
	case chats.EventUpdated:
		return c.onChatUpdated(ctx, e) // chats.go
	case history.SessionConversation:
		return c.onHistoryConversation(ctx, e) // history.go
	case history.SessionChunk:
		return c.onHistoryChunk(ctx, e)
	case event.MessageReceived:
		var d struct {
			ID      string `json:"id"`
			Chat    string `json:"chat"`
			From    string `json:"from"`
			Type    string `json:"type"`
			ChatLID string `json:"chat_lid"`
			FromLID string `json:"from_lid"`
		}
		var data map[string]any
		if json.Unmarshal(e.Data, &d) != nil || json.Unmarshal(e.Data, &data) != nil {
			c.log.Warn("inbound message with unreadable data; dropped")
			e.Acknowledge(nil) // a redelivery would be as unreadable
			return nil
		}
		m := &store.Message{ID: ids.New(ids.Message), ChannelID: c.id, Chat: d.Chat, Sender: d.From, Type: orDefault(d.Type, "unknown"),
			Body: e.Data, WAID: d.ID, CreatedAt: at, ChatLID: d.ChatLID, SenderLID: d.FromLID}
		if h := c.sr.w.cfg.beforeInbound; h != nil && !h(c.id) {
			return nil
		}
		data["message_id"] = m.ID
		if e.Media != nil {
			m.Media = mediaRow(e.Media, c.wantsAtOnce(e.Media))
			decorateMedia(data, c.id, m.ID, e.Media)
			if body, err := json.Marshal(data); err == nil {
				m.Body = body // the log shows the media's url and status too
			}
		}
		ev, err := c.outboxEvent(event.MessageReceived, data)
		if err != nil {
			c.log.Error("cannot encode event", "type", e.Type, "err", err)
			e.Acknowledge(nil) // a redelivery would be as unencodable
			return nil
		}
		var created bool
		err = c.retry("recording an inbound message", func() error {
			var err error
			created, err = c.sr.w.cfg.Store.RecordInbound(ctx, m, ev)
			return err
		})
		if err != nil {
			c.log.Error("cannot record inbound message; WhatsApp will deliver it again", "err", err)
			e.Acknowledge(err)
			return err
		}
		e.Acknowledge(nil)
		c.followPresence(ctx, m.Chat)
		if !created {
			return nil // a redelivered message: recorded and published before
		}
		c.count(ctx, "received")
		c.sr.w.published(ctx, []event.Envelope{ev.Event})
		if m.Media != nil && m.Media.Wanted {
			d := m.Media
			d.WAID, d.Chat, d.Sender, d.FromMe = e.Media.MessageID, e.Media.Chat, e.Media.Sender, e.Media.FromMe
			c.fetchMedia(d)
		}
		return nil
	}
	ev, err := c.outboxEvent(e.Type, e.Data)
	if err != nil {
		c.log.Error("cannot encode event", "type", e.Type, "err", err)
		e.Acknowledge(nil)
		return nil
	}
	if err := c.retry("recording an inbound "+e.Type, func() error {
		return c.sr.w.cfg.Store.WriteOutbox(ctx, []store.OutboxEvent{ev})
	}); err != nil {
		c.log.Error("inbound event not recorded", "type", e.Type, "err", err)
		e.Acknowledge(err)
		return err
	}
	e.Acknowledge(nil)
	c.sr.w.published(ctx, []event.Envelope{ev.Event})
	return nil
}

// markRead and presence run the optional capabilities of the session.
func (c *channelRun) markRead(ctx context.Context, env command.Envelope) error {
	r, ok := c.sess.(reader)
	if !ok || c.state != state.Active {
		return errors.Join(errPermanent, errors.New("mark read needs an active session that supports it"))
	}
	msgIDs := make([]string, len(env.MessageIDs))
	for i, id := range env.MessageIDs {
		msgIDs[i] = c.sr.w.cfg.Store.ResolveWAID(ctx, c.id, id)
	}
	return r.MarkRead(ctx, env.Chat, env.Sender, msgIDs)
}

func (c *channelRun) presence(ctx context.Context, env command.Envelope) error {
	p, ok := c.sess.(presencer)
	if !ok || c.state != state.Active {
		return errors.Join(errPermanent, errors.New("presence needs an active session that supports it"))
	}
	return p.SendPresence(ctx, env.State, env.Chat)
}

// acceptSendLoaded loads the channel, then accepts the send. A row older
// than Config.RowMaxAge is read again: the API's announcement of a change
// may have been lost (settings.go).
func (c *channelRun) acceptSendLoaded(ctx context.Context, j job, env command.Envelope) error {
	if c.row == nil || time.Since(c.loadedAt) > c.sr.w.cfg.RowMaxAge {
		exists, err := c.load(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return errors.Join(errPermanent, errUnknownChannel)
		}
	}
	return c.acceptSend(ctx, j, env)
}

// channelSettings are the per-channel overrides the worker reads.
type channelSettings struct {
	SendRate   *string       `json:"send_rate"`
	WarmupDays *int          `json:"warmup_days"`
	TypingMS   int           `json:"typing_ms"`
	Media      mediaSettings `json:"media"`
}

func (c *channelRun) settings() channelSettings {
	var s channelSettings
	if c.row != nil {
		_ = json.Unmarshal(c.row.Settings, &s)
	}
	return s
}

// messageLog is a channel's message log as its session reads it back.
type messageLog struct {
	st        *store.Store
	channelID string
}

var _ session.MessageLog = messageLog{}

// SentPayload implements session.MessageLog.
func (l messageLog) SentPayload(ctx context.Context, waID string) ([]byte, error) {
	return l.st.SentPayload(ctx, l.channelID, waID)
}

// PollOptions implements session.MessageLog.
func (l messageLog) PollOptions(ctx context.Context, waID string) ([]string, error) {
	return l.st.PollOptions(ctx, l.channelID, waID)
}
