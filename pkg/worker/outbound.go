package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
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
	MessageID string    `json:"message_id"`
	WAID      string    `json:"wa_id,omitempty"`
	Chat      string    `json:"chat"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	Code      string    `json:"code,omitempty"`
	At        time.Time `json:"at"`
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
			MessageID: ids.New(ids.Message), Status: store.StatusFailed, Reason: verr.Message, Code: verr.Code, At: time.Now().UTC(),
		})
		metricCommands.WithLabelValues(command.Send, "invalid").Inc()
		return errors.Join(errPermanent, verr)
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

func (c *channelRun) afterPump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pumpTimer != nil {
		if d > 0 {
			return // a pump is already scheduled
		}
		c.pumpTimer.Stop()
	}
	c.pumpTimer = time.AfterFunc(d, func() {
		c.mu.Lock()
		c.pumpTimer = nil
		c.mu.Unlock()
		if c.sr.ctx.Err() == nil {
			c.enqueue(job{internal: jobPump})
		}
	})
}

// pump sends the oldest queued message when the channel is active and
// the rate limit allows, then schedules itself for the next one. One
// message per mailbox turn, so commands interleave with a long queue.
func (c *channelRun) pump(ctx context.Context) error {
	if c.sess == nil || c.state != state.Active {
		return nil // Connected pumps again
	}
	st := c.sr.w.cfg.Store
	m, err := st.NextQueued(ctx, c.id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		c.afterPump(time.Second)
		return err
	}
	var req messaging.Request
	if err := json.Unmarshal(m.Body, &req); err != nil {
		return c.fail(ctx, m, "stored request is unreadable", "invalid_request")
	}
	if req.TypingMS == 0 {
		req.TypingMS = c.settings().TypingMS
	}
	if req.TypingMS > 0 && c.typedFor != m.ID {
		if p, ok := c.sess.(presencer); ok {
			_ = p.SendPresence(ctx, "composing", m.Chat)
			c.typedFor = m.ID
			c.afterPump(time.Duration(req.TypingMS) * time.Millisecond)
			return nil
		}
	}
	// Claim first, then take the rate slot right before sending, so the
	// spacing WhatsApp sees is the limiter's, not the database's.
	previous, err := st.ClaimSend(ctx, c.sr.fence(), m.ID)
	if errors.Is(err, store.ErrNotFound) {
		c.pumpSoon() // sent or failed meanwhile
		return nil
	}
	if err != nil {
		return err
	}
	ours := c.claimed == m.ID
	c.claimed = m.ID
	wait, err := c.sr.w.limiter.Reserve(ctx, c.id, c.plan(time.Now()))
	if err != nil {
		c.afterPump(time.Second)
		return err
	}
	if wait > 0 {
		c.afterPump(wait)
		return nil
	}
	if previous == store.StatusSending && !ours {
		// A previous owner crashed between sending and recording it. The
		// same message id goes to WhatsApp again, which recipients
		// de-duplicate by id.
		c.log.Warn("re-sending a message whose previous attempt has no outcome", "message_id", m.ID)
	}
	c.resolveReferences(ctx, &req)
	res, err := c.sess.Send(ctx, session.Outbound{ID: m.ID, To: m.Chat, Type: m.Type, Body: req.DriverBody()})
	switch {
	case err == nil:
		at := res.Timestamp
		if at.IsZero() {
			at = time.Now()
		}
		c.advance(context.WithoutCancel(ctx), []string{m.ID}, store.StatusSent, "", res.WAID, at)
		c.typedFor = ""
		c.pumpSoon()
		return nil
	case errors.Is(err, session.ErrInvalid), errors.Is(err, session.ErrUnsupported):
		c.typedFor = ""
		err := c.fail(ctx, m, err.Error(), "rejected")
		c.pumpSoon()
		return err
	case errors.Is(err, session.ErrNotConnected):
		return nil // retried after Connected
	default:
		c.log.Warn("send failed; retrying", "message_id", m.ID, "err", err)
		c.afterPump(2 * time.Second)
		return nil
	}
}

// resolveReferences maps wagate message ids in a request to WhatsApp ids.
func (c *channelRun) resolveReferences(ctx context.Context, r *messaging.Request) {
	st := c.sr.w.cfg.Store
	resolve := func(id *string) {
		if *id != "" && len(*id) > len(ids.Message) && (*id)[:len(ids.Message)] == ids.Message {
			*id = st.ResolveWAID(ctx, c.id, *id)
		}
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

func (c *channelRun) fail(ctx context.Context, m *store.Message, reason, code string) error {
	changed, err := c.sr.w.cfg.Store.Advance(ctx, c.id, []string{m.ID}, store.StatusFailed, reason, "", time.Now())
	if err != nil {
		return err
	}
	for _, m := range changed {
		c.publish(ctx, event.MessageFailed, MessageStatus{MessageID: m.ID, Chat: m.Chat, Type: m.Type, Status: m.Status, Reason: reason, Code: code, At: time.Now().UTC()})
		c.count(ctx, "failed")
	}
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
	changed, err := c.sr.w.cfg.Store.SetHealthBand(ctx, c.id, h.Band)
	if err != nil || !changed {
		return
	}
	c.row.HealthBand = h.Band
	c.publish(ctx, event.ChannelHealth, HealthChanged{Score: h.Score, Band: h.Band, PreviousBand: previous, Reasons: h.Reasons, At: time.Now().UTC()})
}

// advance records a status change and publishes one event per message
// that changed.
func (c *channelRun) advance(ctx context.Context, msgIDs []string, status, reason, waID string, at time.Time) {
	changed, err := c.sr.w.cfg.Store.Advance(ctx, c.id, msgIDs, status, reason, waID, at)
	if err != nil {
		c.log.Error("cannot record message status", "status", status, "err", err)
		return
	}
	typ := map[string]string{
		store.StatusSent: event.MessageSent, store.StatusDelivered: event.MessageDelivered,
		store.StatusRead: event.MessageRead, store.StatusPlayed: event.MessagePlayed, store.StatusFailed: event.MessageFailed,
	}[status]
	for _, m := range changed {
		c.publish(ctx, typ, MessageStatus{MessageID: m.ID, WAID: m.WAID, Chat: m.Chat, Type: m.Type, Status: status, Reason: reason, At: at.UTC()})
		c.count(ctx, status)
	}
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

// onInbound records what the session received and publishes it.
func (c *channelRun) onInbound(ctx context.Context, e session.Inbound) {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	switch e.Type {
	case event.MessageDelivered, event.MessageRead, event.MessagePlayed:
		status := map[string]string{event.MessageDelivered: store.StatusDelivered, event.MessageRead: store.StatusRead, event.MessagePlayed: store.StatusPlayed}[e.Type]
		c.advance(ctx, e.MessageIDs, status, "", "", at)
		return
	case event.MessageReceived:
		var d struct {
			ID   string `json:"id"`
			Chat string `json:"chat"`
			From string `json:"from"`
			Type string `json:"type"`
		}
		var data map[string]any
		if json.Unmarshal(e.Data, &d) != nil || json.Unmarshal(e.Data, &data) != nil {
			c.log.Warn("inbound message with unreadable data; dropped")
			return
		}
		m := &store.Message{ID: ids.New(ids.Message), ChannelID: c.id, Chat: d.Chat, Sender: d.From, Type: orDefault(d.Type, "unknown"),
			Body: e.Data, WAID: d.ID, CreatedAt: at}
		created, err := c.sr.w.cfg.Store.RecordInbound(ctx, m)
		if err != nil {
			c.log.Error("cannot record inbound message", "err", err)
			return
		}
		if !created {
			return // a redelivered message: recorded and published before
		}
		data["message_id"] = m.ID
		c.count(ctx, "received")
		c.publish(ctx, event.MessageReceived, data)
		return
	}
	c.publish(ctx, e.Type, e.Data)
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

// acceptSendLoaded loads the channel, then accepts the send.
func (c *channelRun) acceptSendLoaded(ctx context.Context, j job, env command.Envelope) error {
	if c.row == nil {
		exists, err := c.load(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return errors.Join(errPermanent, errors.New("unknown channel"))
		}
	}
	return c.acceptSend(ctx, j, env)
}

// channelSettings are the per-channel overrides the worker reads.
type channelSettings struct {
	SendRate   *string `json:"send_rate"`
	WarmupDays *int    `json:"warmup_days"`
	TypingMS   int     `json:"typing_ms"`
}

func (c *channelRun) settings() channelSettings {
	var s channelSettings
	if c.row != nil {
		_ = json.Unmarshal(c.row.Settings, &s)
	}
	return s
}
