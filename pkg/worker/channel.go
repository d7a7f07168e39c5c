package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/qrcode"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// controller is the simulator's optional capability: phone-side controls
// (scan, inbound, disconnect, ...), routed from `sim` commands.
type controller interface {
	Control(ctx context.Context, action string, args json.RawMessage) (json.RawMessage, error)
}

// pairingCodeTTL is how long a phone pairing code is shown: WhatsApp's
// pairing window.
const pairingCodeTTL = 160 * time.Second

// channelRun is the runtime of one channel in an owned shard. Fields below
// mu are touched only by the mailbox goroutine.
type channelRun struct {
	sr  *shardRun
	id  string
	log *slog.Logger

	mu         sync.Mutex
	queue      []job
	running    bool
	commands   int
	timer      *time.Timer // the one pending internal job (resume, reconnect)
	pumpTimer  *time.Timer // the next turn of the outbound queue
	pumpQueued bool        // a pump job waits in the queue
	held       heldReceipts

	row          *store.Channel
	loadedAt     time.Time // when row was read
	state        string
	sess         session.Session
	sessCancel   context.CancelFunc
	gen          uint64
	pendingPhone string
	// qrAttempt is the attempt number of the session's latest QR code (0
	// before the first): a pairing code is asked for on the login
	// connection only while its first code shows.
	qrAttempt   int
	typedFor    string          // message whose typing indicator was shown
	claimed     map[string]bool // messages this owner claimed and has not sent yet
	sendRetries map[string]int  // failed attempts worth a retry, by message
	// presenceSubs are the chats whose presence the session of generation
	// presenceGen follows (presence.go).
	presenceSubs map[string]bool
	presenceGen  uint64
	attempts     int // failed connection attempts in a row
	closed       bool
	lookFirst    bool           // the next pump checks the queue before claiming
	history      history.Result // what the history chunk in progress imported (history.go)
	historyConvs int
}

func newChannelRun(sr *shardRun, id string) *channelRun {
	return &channelRun{sr: sr, id: id, log: sr.log.With("channel_id", id)}
}

// after enqueues j after d, replacing any pending internal job, unless the
// shard stops first.
func (c *channelRun) after(d time.Duration, j job) {
	t := time.AfterFunc(d, func() {
		if c.sr.ctx.Err() == nil {
			c.enqueue(j)
		}
	})
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = t
	c.mu.Unlock()
}

func (c *channelRun) stopTimers() {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
}

func (c *channelRun) handle(j job) {
	ctx := c.sr.ctx
	if ctx.Err() != nil || c.closed {
		// The shard stopped: close the session; commands stay unacked for
		// the next owner.
		c.closeSession()
		c.stopTimers()
		if j.req != nil {
			j.req.answer(nil, errShardStopped)
		}
		return
	}
	switch {
	case j.req != nil:
		c.handleRequest(ctx, j.req)
	case j.msg != nil:
		c.handleCommand(ctx, j)
	case len(j.receipts) > 0:
		c.onReceipts(ctx, j.receipts)
	case j.ev != nil:
		if j.gen != c.gen {
			return // from a session already replaced
		}
		c.handleEvent(ctx, j.ev)
	case j.media != nil:
		c.fetchMedia(j.media)
	case j.internal == jobResume:
		c.start(ctx, state.ReasonResumed, false)
	case j.internal == jobPump:
		if err := c.pump(ctx); errors.Is(err, store.ErrStaleEpoch) {
			c.sr.lost("state write refused: stale epoch")
		} else if err != nil {
			c.log.Warn("outbound queue", "err", err)
		}
	case j.internal == jobReload:
		c.reload(ctx)
	case j.internal == jobReconnect:
		if c.sess == nil && c.row != nil && c.row.DesiredState == store.DesiredRunning {
			c.start(ctx, state.ReasonReconnecting, true)
		}
	}
}

func (c *channelRun) handleCommand(ctx context.Context, j job) {
	if !knownVerbs[j.verb] {
		c.rejectCommand(ctx, j, CommandFailed{Code: CodeUnknownVerb, Reason: "unknown verb " + strconv.Quote(j.verb)})
		return
	}
	var env command.Envelope
	if len(j.msg.Data()) > 0 {
		if err := json.Unmarshal(j.msg.Data(), &env); err != nil {
			c.rejectCommand(ctx, j, CommandFailed{Code: CodeMalformedBody, Reason: "the body is not a command's JSON: " + err.Error()})
			return
		}
	}
	if reason := invalidBody(j.verb, env, j.msg.Data()); reason != "" {
		c.rejectCommand(ctx, j, CommandFailed{Code: CodeInvalidBody, Reason: reason})
		return
	}
	var err error
	if j.verb == command.Send {
		err = c.acceptSendLoaded(ctx, j, env)
	} else {
		err = c.command(ctx, j.verb, env)
	}
	switch {
	case err == nil:
		metricCommands.WithLabelValues(j.verb, "ok").Inc()
		_ = j.msg.Ack()
		c.sr.w.reply(j.msg, CommandAccepted{Status: "accepted", Subject: c.sr.w.cfg.Bus.Names.Cmd(c.id, j.verb), ChannelID: c.id, Verb: j.verb,
			MsgID: j.msg.Headers().Get(names.HeaderMsgID)}, "")
	case errors.Is(err, store.ErrStaleEpoch):
		metricCommands.WithLabelValues(j.verb, "stale_epoch").Inc()
		c.sr.lost("state write refused: stale epoch")
	case errors.Is(err, errPermanent):
		d := CommandFailed{Code: CodeRejected, Reason: permanentReason(err)}
		var verr *httpapi.Error
		switch {
		case errors.Is(err, errUnknownChannel):
			d.Code = CodeUnknownChannel
		case errors.Is(err, errInvalidSend):
			d.Code = CodeInvalidSend
			if errors.As(err, &verr) {
				d.ErrorCode = verr.Code
			}
		}
		c.rejectCommand(ctx, j, d)
	default:
		metricCommands.WithLabelValues(j.verb, "retry").Inc()
		c.log.Warn("command failed; it will be redelivered", "verb", j.verb, "err", err)
		_ = j.msg.NakWithDelay(2 * time.Second)
	}
}

// permanentReason is the message of a permanent error without the marker.
func permanentReason(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line != errPermanent.Error() && line != errUnknownChannel.Error() && line != errInvalidSend.Error() {
			parts = append(parts, line)
		}
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}

// rejectCommand answers a command that can never succeed with
// command.failed (commandfailed.go): on the channel when it exists, at
// admin level when it does not.
func (c *channelRun) rejectCommand(ctx context.Context, j job, d CommandFailed) {
	d.ChannelID, d.Verb = c.id, j.verb
	exists := c.row != nil
	if !exists && d.Code != CodeUnknownChannel {
		var err error
		if exists, err = c.load(ctx); err != nil {
			c.log.Warn("command failed; it will be redelivered", "verb", j.verb, "err", err)
			_ = j.msg.NakWithDelay(2 * time.Second)
			return
		}
	}
	if !exists {
		d.Code, d.Reason = CodeUnknownChannel, "no channel "+strconv.Quote(c.id)+" exists"
	}
	on := c.id
	if !exists {
		on = ""
		c.closeSession()
		c.sr.forget(c.id)
	}
	c.sr.w.failCommand(ctx, c.sr.epoch, j.msg, on, j.verb, d)
}

var errPermanent = errors.New("permanent")

// load refreshes the channel row; ok is false when the channel is gone.
func (c *channelRun) load(ctx context.Context) (bool, error) {
	row, err := c.sr.w.cfg.Store.ChannelAny(ctx, c.id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.row, c.loadedAt = row, time.Now()
	if c.state == "" {
		c.state = row.State
	}
	return true, nil
}

func (c *channelRun) command(ctx context.Context, verb string, env command.Envelope) error {
	exists, err := c.load(ctx)
	if err != nil {
		return err
	}
	if !exists {
		c.closeSession()
		c.sr.forget(c.id)
		if verb == command.Delete {
			return nil // deleted already: a redelivered delete
		}
		return errors.Join(errPermanent, errUnknownChannel)
	}
	switch verb {
	case command.Start:
		if c.row.DesiredState != store.DesiredRunning {
			return nil // a later stop or delete superseded it
		}
		return c.start(ctx, state.ReasonStartRequested, false)
	case command.Restart:
		if c.row.DesiredState != store.DesiredRunning {
			return nil
		}
		c.closeSession()
		return c.start(ctx, state.ReasonRestartRequested, true)
	case command.Stop:
		c.stopTimers()
		c.closeSession()
		c.clearPairing(ctx)
		return c.transition(ctx, state.Inactive, state.ReasonStopRequested, nil)
	case command.Logout:
		return c.logout(ctx, state.ReasonLogoutRequested)
	case command.Delete:
		if c.row.DesiredState != store.DesiredDeleted {
			return nil
		}
		if err := c.logout(ctx, state.ReasonLogoutRequested); err != nil {
			return err
		}
		if err := c.sr.w.cfg.Store.DeleteChannel(ctx, c.sr.fence(), c.id); err != nil {
			return err
		}
		c.closed = true
		c.sr.forget(c.id)
		c.deleteChannelMedia(ctx)
		c.log.Info("channel deleted")
		return nil
	case command.PairPhone:
		return c.pairPhone(ctx, env.Phone)
	case command.Read:
		return c.markRead(ctx, env)
	case command.Presence:
		return c.presence(ctx, env)
	case command.DownloadMedia:
		d, err := c.sr.w.cfg.Store.Media(ctx, c.id, env.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			return errors.Join(errPermanent, errors.New("no media for message "+env.MessageID))
		}
		if err != nil {
			return err
		}
		c.fetchMedia(d)
		return nil
	case command.Sim:
		ctl, ok := c.sess.(controller)
		if !ok {
			return errors.Join(errPermanent, errors.New("simulator control on a channel without a simulated session; start it first"))
		}
		if _, err := ctl.Control(ctx, env.Action, env.Args); err != nil {
			if errors.Is(err, session.ErrInvalid) || errors.Is(err, session.ErrNotConnected) {
				return errors.Join(errPermanent, err)
			}
			return err
		}
		return nil
	default:
		return errors.Join(errPermanent, errors.New("unknown verb "+verb))
	}
}

// start opens and connects the session unless it is already running.
func (c *channelRun) start(ctx context.Context, reason string, force bool) error {
	if c.row == nil {
		exists, err := c.load(ctx)
		if err != nil || !exists {
			return err
		}
	}
	if c.row.DesiredState != store.DesiredRunning {
		return nil
	}
	if c.sess != nil && !force {
		return nil
	}
	c.closeSession()
	d, ok := c.sr.w.cfg.Drivers[c.row.Driver]
	if !ok {
		return c.transition(ctx, state.Error, state.ReasonDriverUnavailable, nil)
	}
	proxy, err := c.proxy()
	if err != nil {
		c.log.Error("cannot open the channel's proxy URL; it does not connect", "err", err)
		return c.transitionDetail(ctx, state.Error, state.ReasonProxyUnreadable, err.Error(), nil)
	}
	c.gen++
	gen := c.gen
	sctx, cancel := context.WithCancel(ctx)
	sess, err := d.Open(sctx, session.Options{
		ChannelID: c.id,
		JID:       c.row.JID,
		Sink:      session.SinkFunc(func(ev session.Event) { c.fromSession(gen, ev) }),
		Messages:  messageLog{st: c.sr.w.cfg.Store, channelID: c.id},
		Proxy:     proxy,
	})
	if err != nil {
		cancel()
		c.log.Warn("cannot open session", "err", err)
		return c.retryLater(ctx, state.Error, state.ReasonUnreachable, dialDetail(err.Error()))
	}
	c.sess, c.sessCancel = sess, cancel
	metricSessions.Inc()
	to := state.Initializing
	if c.row.JID != "" {
		to = state.Connecting
	}
	if err := c.transition(ctx, to, reason, nil); err != nil {
		return err
	}
	if err := sess.Connect(sctx); err != nil {
		c.log.Warn("connect failed", "err", err)
		c.closeSession()
		return c.retryLater(ctx, state.Error, state.ReasonUnreachable, dialDetail(err.Error()))
	}
	return nil
}

func (c *channelRun) closeSession() {
	if c.sess == nil {
		return
	}
	c.sess.Disconnect()
	c.sessCancel()
	c.sess, c.sessCancel = nil, nil
	c.qrAttempt = 0
	c.gen++
	metricSessions.Dec()
}

func (c *channelRun) logout(ctx context.Context, reason string) error {
	c.stopTimers()
	if c.sess == nil && c.row.JID != "" {
		if d, ok := c.sr.w.cfg.Drivers[c.row.Driver]; ok {
			sess, err := d.Open(ctx, session.Options{ChannelID: c.id, JID: c.row.JID, Sink: session.SinkFunc(func(session.Event) {})})
			if err == nil {
				c.sess, c.sessCancel = sess, func() {}
				metricSessions.Inc()
			}
		}
	}
	if c.sess != nil {
		if err := c.sess.Logout(ctx); err != nil {
			c.log.Warn("logout at WhatsApp failed; the device is unlinked locally", "err", err)
		}
	}
	c.closeSession()
	c.clearPairing(ctx)
	return c.transition(ctx, state.LoggedOut, reason, nil, store.WithDevice("", "", ""), store.WithDesired(store.DesiredStopped))
}

func (c *channelRun) pairPhone(ctx context.Context, phone string) error {
	if c.row.JID != "" {
		return errors.Join(errPermanent, errors.New("channel is already paired; log out first"))
	}
	if c.sess != nil && c.state == state.QRPending && c.qrAttempt <= 1 {
		return c.requestPairingCode(ctx, phone)
	}
	// Phone pairing happens inside a QR session: start one and ask for the
	// code when its first QR arrives. WhatsApp closes a login connection
	// when its QR codes run out (about 160 s after it opened) and a pairing
	// code dies with it, so past the first code a new login connection is
	// opened: the code lives its full time.
	c.pendingPhone = phone
	return c.start(ctx, state.ReasonStartRequested, c.sess != nil && c.state != state.Initializing)
}

func (c *channelRun) requestPairingCode(ctx context.Context, phone string) error {
	code, err := c.sess.PairPhone(ctx, phone)
	if err != nil {
		if errors.Is(err, session.ErrInvalid) {
			return errors.Join(errPermanent, err)
		}
		return err
	}
	pc := event.PairingCode{Code: code, Phone: phone, ExpiresAt: time.Now().Add(pairingCodeTTL).UTC()}
	raw, _ := json.Marshal(pc)
	if err := c.sr.w.cfg.Redis.Set(ctx, c.sr.w.cfg.Keys.PairingCode(c.id), raw, pairingCodeTTL).Err(); err != nil {
		c.log.Warn("cannot store pairing code", "err", err)
	}
	c.publish(ctx, event.ConnectionPairingCode, pc)
	return nil
}

func (c *channelRun) clearPairing(ctx context.Context) {
	keys := c.sr.w.cfg.Keys
	_ = c.sr.w.cfg.Redis.Del(ctx, keys.QR(c.id), keys.PairingCode(c.id)).Err()
	c.pendingPhone = ""
}

func (c *channelRun) handleEvent(ctx context.Context, ev session.Event) {
	var err error
	switch e := ev.(type) {
	case session.QR:
		err = c.onQR(ctx, e)
	case session.QRTimeout:
		c.closeSession()
		c.clearPairing(ctx)
		err = c.transition(ctx, state.Error, state.ReasonQRTimeout, nil, store.WithDesired(store.DesiredStopped))
	case session.PairError:
		c.closeSession()
		c.clearPairing(ctx)
		err = c.transition(ctx, state.Error, state.ReasonPairFailed, nil, store.WithDesired(store.DesiredStopped))
	case session.PairingCode:
		pc := event.PairingCode{Code: e.Code, Phone: e.Phone, ExpiresAt: e.ExpiresAt.UTC()}
		c.publish(ctx, event.ConnectionPairingCode, pc)
	case session.PairSuccess:
		c.clearPairing(ctx)
		now := time.Now()
		c.row.JID, c.row.Phone, c.row.PairedAt = e.JID, e.Phone, &now
		err = c.transition(ctx, state.Authenticating, state.ReasonPaired, nil, store.WithDevice(e.JID, e.Phone, e.PushName))
	case session.Connecting:
		err = c.transition(ctx, state.Connecting, state.ReasonReconnecting, nil)
	case session.Connected:
		c.attempts = 0
		err = c.transition(ctx, state.Active, state.ReasonConnected, nil)
		if err == nil {
			c.announcePresence(ctx)
		}
		// Most channels have nothing queued when they connect (a worker
		// resuming thousands of them): look before claiming.
		c.lookFirst = true
		c.pumpSoon()
	case session.Disconnected:
		c.closeSession()
		err = c.retryLater(ctx, state.Disconnected, orDefault(e.Reason, state.ReasonRemoteClosed), "")
	case session.ConnectFailure:
		c.closeSession()
		if e.Retryable {
			err = c.retryLater(ctx, state.Error, orDefault(e.Reason, state.ReasonUnreachable), dialDetail(e.Message))
		} else {
			err = c.transitionDetail(ctx, state.Error, orDefault(e.Reason, "connect_failure"), dialDetail(e.Message), nil)
		}
	case session.LoggedOut:
		c.closeSession()
		c.clearPairing(ctx)
		err = c.transition(ctx, state.LoggedOut, orDefault(e.Reason, state.ReasonLoggedOut), nil,
			store.WithDevice("", "", ""), store.WithDesired(store.DesiredStopped))
	case session.StreamReplaced:
		err = c.onStreamReplaced(ctx)
	case session.TemporaryBan:
		c.closeSession()
		until := e.Until.UTC()
		if err = c.transition(ctx, state.Banned, state.ReasonTemporaryBan, &until); err == nil {
			c.after(time.Until(until), job{internal: jobReconnect})
		}
	case session.ClientOutdated:
		c.closeSession()
		c.log.Error("WhatsApp rejects this client version: upgrade wagate (go.mau.fi/whatsmeow) and restart the workers")
		err = c.transition(ctx, state.Error, state.ReasonClientOutdated, nil)
	case session.KeepAlive:
		if !e.OK {
			c.log.Warn("keep-alive failing", "errors", e.ErrorCount)
		}
	case session.Inbound:
		err = c.onInbound(ctx, e)
		if err == nil && e.Type == event.CallReceived {
			c.onCall(ctx, e) // calls.go
		}
	}
	if errors.Is(err, store.ErrStaleEpoch) {
		c.sr.lost("state write refused: stale epoch")
	} else if err != nil {
		c.log.Warn("handling a session event failed", "event", ev, "err", err)
	}
}

func (c *channelRun) onQR(ctx context.Context, e session.QR) error {
	png, err := qrcode.PNGBase64(e.Code)
	if err != nil {
		return err
	}
	qr := event.QR{Code: e.Code, ImagePNGBase64: png, ExpiresAt: e.ExpiresAt.UTC(), Attempt: e.Attempt, MaxAttempts: e.MaxAttempts}
	stored, _ := json.Marshal(struct {
		Code        string    `json:"code"`
		ExpiresAt   time.Time `json:"expires_at"`
		Attempt     int       `json:"attempt"`
		MaxAttempts int       `json:"max_attempts"`
	}{qr.Code, qr.ExpiresAt, qr.Attempt, qr.MaxAttempts})
	if ttl := time.Until(e.ExpiresAt); ttl > 0 {
		if err := c.sr.w.cfg.Redis.Set(ctx, c.sr.w.cfg.Keys.QR(c.id), stored, ttl).Err(); err != nil {
			c.log.Warn("cannot store QR code", "err", err)
		}
	}
	c.qrAttempt = e.Attempt
	if err := c.transition(ctx, state.QRPending, state.ReasonQRIssued, nil); err != nil {
		return err
	}
	c.publish(ctx, event.ConnectionQR, qr)
	if c.pendingPhone != "" {
		phone := c.pendingPhone
		c.pendingPhone = ""
		if err := c.requestPairingCode(ctx, phone); err != nil {
			c.log.Warn("pairing code request failed", "err", err)
		}
	}
	return nil
}

// onStreamReplaced: another connection of this device took over. If our
// lease is gone the other connection is the legitimate new owner: drop the
// shard. If we still hold it, the other connection is foreign; we do not
// reconnect at once, which would ping-pong with it, and retry later.
func (c *channelRun) onStreamReplaced(ctx context.Context) error {
	c.closeSession()
	held, err := c.sr.w.leases.Holds(ctx, c.sr.lease)
	if err == nil && !held {
		c.sr.lost("stream replaced and the lease is gone")
		return nil
	}
	if err := c.transition(ctx, state.Error, state.ReasonStreamReplaced, nil); err != nil {
		return err
	}
	c.after(c.sr.w.cfg.ErrorRetry, job{internal: jobReconnect})
	return nil
}

// retryLater records a failed or lost connection and schedules the next
// attempt with exponential backoff and full jitter; after
// ReconnectAttempts failures in a row the channel goes to error and is
// retried after ErrorRetry.
func (c *channelRun) retryLater(ctx context.Context, to, reason, detail string) error {
	cfg := c.sr.w.cfg
	c.attempts++
	delay := backoff(cfg.ReconnectBase, cfg.ReconnectMax, c.attempts)
	if c.attempts > cfg.ReconnectAttempts {
		to, reason, delay = state.Error, state.ReasonRetriesExhausted, cfg.ErrorRetry
		c.attempts = 0
	}
	c.after(delay, job{internal: jobReconnect})
	c.log.Info("connection will be retried", "in", delay.Round(time.Millisecond), "attempt", c.attempts, "reason", reason, "detail", detail)
	return c.transitionDetail(ctx, to, reason, detail, nil)
}

func backoff(base, maxDelay time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > maxDelay {
		d = maxDelay
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// transition stores a change of state and its connection.status_changed
// in one transaction, then publishes the event. Same-state writes are
// skipped unless they change device or desired state.
func (c *channelRun) transition(ctx context.Context, to, reason string, until *time.Time, opts ...store.StateOpt) error {
	return c.transitionDetail(ctx, to, reason, "", until, opts...)
}

// transitionDetail is transition with a detail of the reason (the dial
// error while WhatsApp is unreachable).
func (c *channelRun) transitionDetail(ctx context.Context, to, reason, detail string, until *time.Time, opts ...store.StateOpt) error {
	from := c.state
	if from == to && len(opts) == 0 {
		return nil
	}
	at := time.Now().UTC()
	var ev *store.OutboxEvent
	if from != to {
		e, err := c.outboxEvent(event.ConnectionStatusChanged, event.StatusChanged{From: from, To: to, Reason: reason, Detail: detail, At: at, ExpiresAt: until})
		if err != nil {
			return err
		}
		ev = &e
		opts = append(opts, store.WithEvents(e))
	}
	err := c.sr.w.cfg.Store.SetState(ctx, c.sr.fence(), c.id, store.Transition{From: from, To: to, Reason: reason, Detail: detail, At: at, ExpiresAt: until}, opts...)
	if err != nil {
		return err
	}
	c.state = to
	metricTransitions.WithLabelValues(to).Inc()
	c.log.Info("state changed", "from", from, "to", to, "reason", reason, "detail", detail)
	if ev != nil {
		c.sr.w.published(ctx, []event.Envelope{ev.Event})
		if to == state.Disconnected {
			c.count(ctx, "disconnects")
		}
		c.checkHealth(ctx)
	}
	return nil
}

// publish publishes an event that announces no stored change (a QR code,
// a pairing code, presence, a rejected command): nothing is lost with it
// that a retry of its cause would not bring back.
func (c *channelRun) publish(ctx context.Context, typ string, data any) {
	ev, err := event.New(typ, c.id, c.sr.epoch, time.Now(), data)
	if err != nil {
		c.log.Error("cannot encode event", "type", typ, "err", err)
		return
	}
	if _, err := c.sr.w.cfg.Bus.PublishEvent(ctx, ev); err != nil {
		c.log.Error("cannot publish event", "type", typ, "err", err)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// proxy returns the channel's proxy URL in the clear, "" when it has none.
func (c *channelRun) proxy() (string, error) {
	if c.row.Proxy == "" {
		return "", nil
	}
	box := c.sr.w.cfg.Secrets
	if box == nil {
		return "", errors.New("the channel has a proxy but this worker has no WAGATE_SECRET_KEY to open it with (set the api's key)")
	}
	p, err := box.Open(c.row.Proxy)
	if err != nil {
		return "", fmt.Errorf("open the proxy URL: %w (give this worker the api's WAGATE_SECRET_KEY)", err)
	}
	return p, nil
}
