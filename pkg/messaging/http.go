package messaging

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/config"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/ratelimit"
	"github.com/wagate/wagate/pkg/store"
)

// HandlersConfig configures the HTTP routes of messaging.
type HandlersConfig struct {
	Store *store.Store
	Bus   *bus.Bus
	// SendRate and WarmupDays are the fleet's defaults (WAGATE_SEND_RATE,
	// WAGATE_WARMUP_DAYS); a channel's settings may override them.
	SendRate   config.Rate
	WarmupDays int
	// MaxQueue bounds a channel's messages waiting to be sent; beyond it a
	// send answers 429 with Retry-After (default 1000).
	MaxQueue int
	// Channels, when set, serves the channel of POST /messages (which
	// needs its settings, not its connection state) from a short cache.
	Channels *httpapi.ChannelCache
	// Media keeps the files of sends made with base64 (nil: the base64
	// stays in the message log).
	Media  media.Store
	Logger *slog.Logger
}

// Handlers serves messages, read receipts, presence, health and usage.
type Handlers struct {
	cfg    HandlersConfig
	depths depthCache
	accept *acceptor
}

// NewHandlers returns the handlers.
func NewHandlers(cfg HandlersConfig) *Handlers {
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handlers{cfg: cfg, accept: newAcceptor(cfg.Store, cfg.Bus, cfg.Logger)}
}

// HeaderIdempotencyKey is the header that makes a send idempotent.
const HeaderIdempotencyKey = "Idempotency-Key"

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	var cached httpapi.ChannelSource = h.cfg.Store
	if h.cfg.Channels != nil {
		cached = h.cfg.Channels
	}
	r.POST("/v1/channels/:id/messages", auth, httpapi.LoadChannelFrom(cached), h.send)
	g := r.Group("/v1/channels/:id", auth, httpapi.LoadChannel(h.cfg.Store))
	g.GET("/messages", h.list)
	g.GET("/messages/:msg_id", h.get)
	g.POST("/read", h.read)
	g.POST("/presence", h.presence)
	g.GET("/health", h.health)
	g.GET("/usage", h.usage)
}

func channelOf(c *gin.Context) *store.Channel { return httpapi.ChannelOf(c) }

// Accepted is the answer to a send.
type Accepted struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Chat      string    `json:"chat"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
}

func (h *Handlers) send(c *gin.Context) {
	ctx := c.Request.Context()
	ch := channelOf(c)
	var raw json.RawMessage
	if err := httpapi.Bind(c, &raw, MaxBody, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	req, verr := Parse(raw)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	key := c.GetHeader(HeaderIdempotencyKey)
	if len(key) > 255 {
		httpapi.Abort(c, httpapi.Validation("Idempotency-Key", "exceeds 255 characters"))
		return
	}
	body, _ := json.Marshal(req)
	hash := sha256.Sum256(body)
	m := &store.Message{ID: ids.New(ids.Message), ChannelID: ch.ID, IdempotencyKey: key, RequestHash: hash[:], Chat: req.To, Type: req.Type, Body: body}
	depth, err := h.depths.get(ctx, h.cfg.Store, ch.ID)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	if limit := h.maxQueue(ch); depth >= limit {
		// A replay answers as a replay even when the queue is full.
		if key != "" {
			if prev, err := h.cfg.Store.MessageByKey(ctx, ch.ID, key); err == nil {
				h.replay(c, prev, hash[:])
				return
			}
		}
		retry := h.retryAfter(ch, depth-limit+1)
		c.Header("Retry-After", strconv.Itoa(retry))
		httpapi.Abort(c, httpapi.Errorf(http.StatusTooManyRequests, "queue_full",
			"channel %s has %d messages waiting (limit %d); retry after %d s", ch.ID, depth, limit, retry).
			WithDetails(map[string]int{"queued": depth, "limit": limit, "retry_after_seconds": retry}))
		return
	}
	if err := h.storeBase64(ctx, m, req); err != nil {
		httpapi.Abort(c, err)
		return
	}
	createdAt, err := h.accept.enqueue(ctx, m)
	if err != nil || createdAt.IsZero() {
		h.dropStored(m) // not this message's file: a replay or a failure
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpapi.Abort(c, httpapi.ErrChannelNF)
		return
	case err != nil:
		httpapi.Abort(c, err)
		return
	case createdAt.IsZero():
		// Not inserted: the key was used before. Read what it stored.
		h.sendAgain(c, m)
		return
	}
	h.depths.add(ch.ID)
	m.Status, m.CreatedAt = store.StatusQueued, createdAt
	c.JSON(http.StatusAccepted, accepted(m))
}

// sendAgain answers a send whose idempotency key the batch insert found
// used: a replay of the stored message, or a mismatch.
func (h *Handlers) sendAgain(c *gin.Context, m *store.Message) {
	ctx := c.Request.Context()
	stored, created, err := h.cfg.Store.EnqueueMessage(ctx, m)
	switch {
	case errors.Is(err, store.ErrIdempotencyMismatch), err == nil && !created:
		h.replay(c, stored, m.RequestHash)
		return
	case errors.Is(err, store.ErrNotFound):
		httpapi.Abort(c, httpapi.ErrChannelNF)
		return
	case err != nil:
		httpapi.Abort(c, err)
		return
	}
	// The earlier row vanished meanwhile (its channel was recreated or
	// the row pruned): this one is new.
	h.depths.add(m.ChannelID)
	if err := h.wake(ctx, stored); err != nil {
		h.cfg.Logger.Warn("send stored but its wake-up was not published", "channel_id", m.ChannelID, "message_id", stored.ID, "err", err)
	}
	c.JSON(http.StatusAccepted, accepted(stored))
}

func (h *Handlers) replay(c *gin.Context, prev *store.Message, hash []byte) {
	if string(prev.RequestHash) != string(hash) {
		httpapi.Abort(c, httpapi.Errorf(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"Idempotency-Key was used for a different request (message %s); use a new key for a new message", prev.ID))
		return
	}
	if prev.Status == store.StatusQueued {
		_ = h.wake(c.Request.Context(), prev)
	}
	c.Header("Idempotent-Replayed", "true")
	c.JSON(http.StatusAccepted, accepted(prev))
}

func accepted(m *store.Message) Accepted {
	return Accepted{ID: m.ID, Status: m.Status, Chat: m.Chat, Type: m.Type, CreatedAt: m.CreatedAt}
}

func (h *Handlers) wake(ctx context.Context, m *store.Message) error {
	body, _ := json.Marshal(command.Envelope{MessageID: m.ID, RequestedAt: time.Now().UTC()})
	return h.cfg.Bus.PublishCommand(ctx, m.ChannelID, command.Send, m.ID, body)
}

func (h *Handlers) maxQueue(ch *store.Channel) int {
	var s struct {
		MaxQueue *int `json:"max_queue"`
	}
	if json.Unmarshal(ch.Settings, &s) == nil && s.MaxQueue != nil && *s.MaxQueue > 0 {
		return *s.MaxQueue
	}
	return h.cfg.MaxQueue
}

// retryAfter estimates, in seconds, when over messages have been sent.
func (h *Handlers) retryAfter(ch *store.Channel, over int) int {
	plan := ratelimit.PlanFor(h.rate(ch), h.warmup(ch), ch.PairedAt, time.Now())
	if plan.Rate.Unlimited() {
		return 1
	}
	secs := float64(over) * plan.Rate.Per.Seconds() / float64(plan.Rate.N)
	return int(math.Min(3600, math.Max(1, math.Ceil(secs))))
}

func (h *Handlers) rate(ch *store.Channel) config.Rate {
	var s struct {
		SendRate *string `json:"send_rate"`
	}
	if json.Unmarshal(ch.Settings, &s) == nil && s.SendRate != nil {
		if r, err := config.ParseRate(*s.SendRate); err == nil {
			return r
		}
	}
	return h.cfg.SendRate
}

func (h *Handlers) list(c *gin.Context) {
	ch := channelOf(c)
	f := store.MessageFilter{Chat: c.Query("chat"), Direction: c.Query("direction"), Status: c.Query("status"), Before: c.Query("before")}
	if f.Direction != "" && f.Direction != "inbound" && f.Direction != "outbound" {
		httpapi.Abort(c, httpapi.Validation("direction", "must be inbound or outbound"))
		return
	}
	if _, ok := store.StatusRank[f.Status]; f.Status != "" && !ok {
		httpapi.Abort(c, httpapi.Validation("status", "is not a message status"))
		return
	}
	if f.Chat != "" {
		jid, ok := NormalizeRecipient(f.Chat)
		if !ok {
			httpapi.Abort(c, httpapi.Validation("chat", "is not a phone number or JID"))
			return
		}
		f.Chat = jid
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				httpapi.Abort(c, httpapi.Validation(p.name, "must be an RFC 3339 time"))
				return
			}
			*p.dst = t
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			httpapi.Abort(c, httpapi.Validation("limit", "must be from 1 to 500"))
			return
		}
		f.Limit = n
	}
	msgs, err := h.cfg.Store.ListMessages(c.Request.Context(), ch.ID, f)
	if err == nil {
		err = h.withMedia(c.Request.Context(), ch.ID, msgs)
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	// null on the last page, like every other list of the API.
	var next *string
	if f.Limit > 0 && len(msgs) == f.Limit || f.Limit == 0 && len(msgs) == 50 {
		next = &msgs[len(msgs)-1].ID
	}
	if msgs == nil {
		msgs = []*store.Message{}
	}
	c.JSON(http.StatusOK, gin.H{"data": msgs, "next_before": next})
}

func (h *Handlers) get(c *gin.Context) {
	m, err := h.cfg.Store.Message(c.Request.Context(), channelOf(c).ID, c.Param("msg_id"))
	if errors.Is(err, store.ErrNotFound) {
		httpapi.Abort(c, httpapi.Errorf(http.StatusNotFound, "message_not_found", "no message %s in this channel", c.Param("msg_id")))
		return
	}
	if err == nil {
		err = h.withMedia(c.Request.Context(), m.ChannelID, []*store.Message{m})
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

type readRequest struct {
	Chat       string   `json:"chat"`
	MessageIDs []string `json:"message_ids"`
	Sender     string   `json:"sender,omitempty"`
}

func (h *Handlers) read(c *gin.Context) {
	var r readRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	chat, ok := NormalizeRecipient(r.Chat)
	if !ok {
		httpapi.Abort(c, httpapi.Validation("chat", "is required: the phone number or JID of the chat"))
		return
	}
	if len(r.MessageIDs) == 0 || len(r.MessageIDs) > 100 {
		httpapi.Abort(c, httpapi.Validation("message_ids", "needs 1 to 100 message ids"))
		return
	}
	h.publish(c, command.Read, command.Envelope{Chat: chat, MessageIDs: r.MessageIDs, Sender: r.Sender})
}

type presenceRequest struct {
	State string `json:"state"`
	Chat  string `json:"chat,omitempty"`
}

// PresenceStates are the states POST …/presence accepts.
var PresenceStates = []string{"available", "unavailable", "composing", "recording", "paused"}

func (h *Handlers) presence(c *gin.Context) {
	var r presenceRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	known := false
	for _, s := range PresenceStates {
		known = known || s == r.State
	}
	if !known {
		httpapi.Abort(c, httpapi.Validation("state", "must be one of available, unavailable, composing, recording, paused"))
		return
	}
	chatState := r.State == "composing" || r.State == "recording" || r.State == "paused"
	if chatState {
		chat, ok := NormalizeRecipient(r.Chat)
		if !ok {
			httpapi.Abort(c, httpapi.Validation("chat", "is required for %s: the phone number or JID of the chat", r.State))
			return
		}
		r.Chat = chat
	}
	h.publish(c, command.Presence, command.Envelope{State: r.State, Chat: r.Chat})
}

func (h *Handlers) publish(c *gin.Context, verb string, env command.Envelope) {
	if ch := channelOf(c); ch.State != "active" {
		httpapi.Abort(c, httpapi.NotActive(ch, verb))
		return
	}
	env.RequestID = ids.New("req_")
	env.RequestedAt = time.Now().UTC()
	body, _ := json.Marshal(env)
	if err := h.cfg.Bus.PublishCommand(c.Request.Context(), channelOf(c).ID, verb, env.RequestID, body); err != nil {
		httpapi.Abort(c, httpapi.Errorf(http.StatusServiceUnavailable, "bus_unavailable", "the command could not be queued; retry shortly"))
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"request_id": env.RequestID, "action": verb})
}

// HealthView is the answer of GET …/health.
type HealthView struct {
	Health
	State   string `json:"state"`
	Warming *struct {
		Day        int    `json:"day"`
		DailyLimit int    `json:"daily_limit"`
		Rate       string `json:"rate"`
	} `json:"warming"`
}

func (h *Handlers) health(c *gin.Context) {
	ch := channelOf(c)
	now := time.Now()
	hl, err := ComputeHealth(c.Request.Context(), h.cfg.Store, ch, now)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	v := HealthView{Health: hl, State: ch.State}
	if p := ratelimit.PlanFor(h.rate(ch), h.warmup(ch), ch.PairedAt, now); p.Warming {
		v.Warming = &struct {
			Day        int    `json:"day"`
			DailyLimit int    `json:"daily_limit"`
			Rate       string `json:"rate"`
		}{p.Day, p.DailyCap, p.Rate.String()}
	}
	c.JSON(http.StatusOK, v)
}

func (h *Handlers) warmup(ch *store.Channel) int {
	var s struct {
		WarmupDays *int `json:"warmup_days"`
	}
	if json.Unmarshal(ch.Settings, &s) == nil && s.WarmupDays != nil {
		return *s.WarmupDays
	}
	return h.cfg.WarmupDays
}

func (h *Handlers) usage(c *gin.Context) {
	days := 7
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			httpapi.Abort(c, httpapi.Validation("days", "must be from 1 to 90"))
			return
		}
		days = n
	}
	u, err := h.cfg.Store.UsageDays(c.Request.Context(), channelOf(c).ID, days, time.Now())
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": u})
}
