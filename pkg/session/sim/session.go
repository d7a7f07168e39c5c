package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/netproxy"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
)

// ErrAlreadyConnected is returned by Connect on a session that is pairing,
// connecting or connected.
var ErrAlreadyConnected = errors.New("sim: already connected")

// phase is where a session's connection is.
type phase uint8

const (
	offline    phase = iota // no connection (opened, disconnected, logged out, timed out)
	showingQR               // showing QR codes, waiting for a scan
	connecting              // paired and holding the marker; Connected follows after ConnectDelay
	connected               // online: sends and phone-side events
)

// Session is a simulated WhatsApp connection of one channel. It implements
// session.Session and Controller. Its methods are called from one goroutine
// (the channel's mailbox); its timers and the Driver's refresh loop run
// concurrently and synchronise through mu.
type Session struct {
	d         *Driver
	channelID string
	sink      session.Sink
	messages  session.MessageLog // nil: none
	// proxy is session.Options.Proxy, parsed; nil when none. proxyErr
	// says why it could not be parsed: every Connect fails with it, as
	// whatsmeow's SetProxyAddress does.
	proxy    *url.URL
	proxyErr error
	log      *slog.Logger

	mu    sync.Mutex
	jid   string // the linked device, "" when not paired
	phase phase
	// gen changes with every change of the connection; a timer whose gen
	// is no longer current does nothing.
	gen uint64
	// connects counts Connect calls, so that the cancellation of an older
	// Connect's ctx cannot close a newer connection.
	connects uint64
	conn     string // id of the connection holding the marker, "" when none
	// bound is the ctx given to Connect, which bounds the connection;
	// stopWatch stops watching it.
	bound     context.Context
	stopWatch func() bool
	timer     *time.Timer // the QR rotation or the ConnectDelay
	pair      *pairing
	receipts  map[*receipt]struct{}
	// pending are the unacknowledged inbound messages the connection
	// delivers after Connected; waiting the receipts it delivers or
	// schedules then (receipts.go).
	pending []session.Event
	waiting []pendingReceipt
	acks    receiptAcks
	// sendFailures are the server error codes the next sends get, in
	// order (control send_failure).
	sendFailures []int
	// outbox holds events not yet given to the sink; at most one goroutine
	// (draining) empties it, so the sink sees a session's events in order.
	outbox   []session.Event
	draining bool
	// presenceOf is what the connection of generation presenceOf.gen told
	// WhatsApp of presence (presence.go); another generation knows nothing.
	presenceOf presenceState
}

var (
	_ session.Session = (*Session)(nil)
	_ Controller      = (*Session)(nil)
)

// marker names a connection's live marker in Redis.
type marker struct{ jid, conn string }

// Connect starts pairing (QR codes, then QRTimeout) when the session has no
// device, and otherwise resumes the stored device: Connected follows after
// ConnectDelay, or LoggedOut{Reason: "device_missing"} when the device is
// no longer stored. ctx bounds the connection: cancelling it closes the
// connection silently, like Disconnect.
//
// With a proxy, every connection first opens a tunnel to WhatsApp's
// websocket host through it, as whatsmeow's transport does; a proxy that
// cannot be reached, refuses the credentials or the CONNECT ends the
// attempt in a retryable ConnectFailure with reason proxy_unreachable,
// the whatsmeow driver's answer. The tunnel is closed at once: the
// simulated WhatsApp is in this process.
func (s *Session) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.proxyErr != nil {
		s.connectFailed(session.ConnectFailure{Reason: state.ReasonProxyUnreachable, Message: "whatsmeow: proxy: " + s.proxyErr.Error()})
		return nil
	}
	if s.proxy != nil {
		conn, err := netproxy.Dial(ctx, s.proxy, WebsocketHost, s.d.cfg.ProxyTimeout)
		if err != nil {
			s.log.Warn("cannot connect through the channel's proxy", "err", err)
			s.connectFailed(session.ConnectFailure{Reason: state.ReasonProxyUnreachable,
				Message: "failed to dial whatsapp web websocket: " + err.Error(), Retryable: true})
			return nil
		}
		conn.Close()
	}
	s.mu.Lock()
	if s.phase != offline && s.bound != nil && s.bound.Err() != nil {
		// The previous connection's ctx ended but its watch has not run
		// yet: close it now rather than refuse.
		m := s.closeLocked()
		s.mu.Unlock()
		s.d.releaseDetached(m)
		s.mu.Lock()
	}
	if s.phase != offline {
		s.mu.Unlock()
		return fmt.Errorf("sim: connect %s: %w", s.channelID, ErrAlreadyConnected)
	}
	s.gen++
	s.connects++
	gen, n := s.gen, s.connects
	s.bound = ctx
	s.stopWatch = context.AfterFunc(ctx, func() { s.cancelled(n) })
	if s.jid == "" {
		s.phase = showingQR
		s.pair = newPairing(s.d.cfg.Now())
		start := s.post(s.nextQRLocked())
		s.mu.Unlock()
		s.kick(start)
		return nil
	}
	jid, conn := s.jid, newConnID()
	s.phase, s.conn = connecting, conn
	s.mu.Unlock()

	dev, err := s.d.cfg.Store.SimDevice(ctx, jid)
	if errors.Is(err, store.ErrNotFound) {
		// What WhatsApp answers a device unlinked meanwhile (a 401 on
		// connect): the device is gone and a new pairing is needed.
		s.mu.Lock()
		var start bool
		if s.gen == gen {
			s.closeLocked()
			s.jid = ""
			start = s.post(session.LoggedOut{Reason: state.ReasonDeviceMissing})
		}
		s.mu.Unlock()
		s.kick(start)
		return nil
	}
	if err == nil && dev.ChannelID != s.channelID {
		err = fmt.Errorf("%w: device %s is linked to channel %s", session.ErrInvalid, jid, dev.ChannelID)
	}
	acquired := false
	if err == nil {
		err = s.d.acquire(ctx, s.channelID, jid, conn)
		acquired = err == nil
	}
	var (
		pending []session.Event
		waiting []pendingReceipt
	)
	if err == nil {
		pending = s.pendingInbound(ctx, jid)
		waiting, err = s.pendingReceipts(ctx, jid)
	}
	s.mu.Lock()
	if err == nil && s.gen != gen {
		if err = context.Cause(ctx); err == nil {
			err = session.ErrNotConnected
		}
	}
	if err != nil {
		if s.gen == gen {
			s.closeLocked()
		}
		s.mu.Unlock()
		if acquired {
			s.d.releaseDetached(marker{jid, conn})
		}
		return fmt.Errorf("sim: connect %s: %w", s.channelID, err)
	}
	s.d.register(s, jid, conn)
	s.pending, s.waiting = pending, waiting
	s.timer = time.AfterFunc(s.d.cfg.scale(s.d.cfg.ConnectDelay), func() { s.online(gen) })
	s.mu.Unlock()
	return nil
}

// nextQRLocked shows the next QR code of the pairing and arms its expiry.
func (s *Session) nextQRLocked() session.QR {
	p, gen := s.pair, s.gen
	code, lifetime := p.next()
	p.expires = p.expires.Add(s.d.cfg.scaleQR(lifetime))
	s.timer = time.AfterFunc(s.d.cfg.scaleQR(lifetime), func() { s.qrExpired(gen) })
	return session.QR{Code: code, ExpiresAt: p.expires, Attempt: p.attempt, MaxAttempts: QRCodes}
}

// qrExpired shows the next code, or ends the pairing after the last one.
func (s *Session) qrExpired(gen uint64) {
	s.mu.Lock()
	if s.gen != gen || s.phase != showingQR {
		s.mu.Unlock()
		return
	}
	var start bool
	if s.pair.attempt >= QRCodes {
		s.closeLocked()
		start = s.post(session.QRTimeout{})
	} else {
		start = s.post(s.nextQRLocked())
	}
	s.mu.Unlock()
	if start {
		s.drain()
	}
}

// online reports the connection established after ConnectDelay.
// The messages left unacknowledged by an earlier connection of the device
// follow Connected, then the receipts due meanwhile, as WhatsApp delivers
// its offline queue.
func (s *Session) online(gen uint64) {
	s.mu.Lock()
	if s.gen != gen || s.phase != connecting {
		s.mu.Unlock()
		return
	}
	s.phase, s.timer = connected, nil
	evs := append([]session.Event{session.Connected{}}, s.pending...)
	evs = append(evs, s.dueReceiptsLocked(gen, s.waiting)...)
	start := s.post(evs...)
	s.pending, s.waiting = nil, nil
	s.mu.Unlock()
	if start {
		s.drain()
	}
}

// cancelled closes the connection of Connect call n when its ctx ends.
func (s *Session) cancelled(n uint64) {
	s.mu.Lock()
	if s.connects != n || s.phase == offline {
		s.mu.Unlock()
		return
	}
	m := s.closeLocked()
	s.mu.Unlock()
	s.d.releaseDetached(m)
}

// replaced closes connection conn because another connection of the device
// took over, and tells the worker.
func (s *Session) replaced(conn string) {
	s.mu.Lock()
	if s.conn != conn || s.phase == offline {
		s.mu.Unlock()
		return
	}
	s.closeLocked() // the marker is the newer connection's now
	start := s.post(session.StreamReplaced{})
	s.mu.Unlock()
	if start {
		go s.drain()
	}
}

// closeLocked takes the session offline: it stops its timers and the ctx
// watch and leaves the refresh loop. The caller releases the returned
// marker once it has let go of mu.
func (s *Session) closeLocked() marker {
	s.phase = offline
	s.gen++
	if s.stopWatch != nil {
		s.stopWatch()
		s.stopWatch, s.bound = nil, nil
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.stopReceiptsLocked()
	s.pair, s.pending, s.waiting = nil, nil, nil
	m := marker{jid: s.jid, conn: s.conn}
	if s.conn != "" {
		s.d.unregister(s.conn)
		s.conn = ""
	}
	return m
}

// post queues events for the sink, in the order of the transitions that
// caused them, and reports whether the caller must start draining. Called
// with mu held.
func (s *Session) post(evs ...session.Event) (start bool) {
	s.outbox = append(s.outbox, evs...)
	if s.draining || len(s.outbox) == 0 {
		return false
	}
	s.draining = true
	return true
}

// kick drains the outbox on a new goroutine when post asked for it: the
// sink is never called on the caller's goroutine.
func (s *Session) kick(start bool) {
	if start {
		go s.drain()
	}
}

// drain gives queued events to the sink until the outbox is empty.
func (s *Session) drain() {
	for {
		s.mu.Lock()
		if len(s.outbox) == 0 {
			s.outbox, s.draining = nil, false
			s.mu.Unlock()
			return
		}
		ev := s.outbox[0]
		s.outbox[0] = nil
		s.outbox = s.outbox[1:]
		s.mu.Unlock()
		s.sink.Emit(ev)
	}
}

// PairPhone returns a pairing code for phone while the session shows QR
// codes, like whatsmeow: the number is validated first (digits only, more
// than six, not starting with 0: session.ErrInvalid), then
// session.ErrNotConnected when the session is offline and
// session.ErrInvalid when it is already paired. No event is emitted; the
// phone completes the pairing with the control "scan".
func (s *Session) PairPhone(_ context.Context, phone string) (string, error) {
	digits, err := validatePhone(phone)
	if err != nil {
		return "", fmt.Errorf("sim: pair phone: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case offline:
		return "", fmt.Errorf("sim: pair phone: %w", session.ErrNotConnected)
	case connecting, connected:
		return "", fmt.Errorf("sim: pair phone: %w: already paired", session.ErrInvalid)
	}
	s.pair.phone, s.pair.code = digits, newPairingCode()
	return s.pair.code, nil
}

// Send delivers m to the simulated phone. It needs a connected session
// (session.ErrNotConnected otherwise), counts the delivery under m.ID
// (Deliveries; the counts are kept for a day after the last send), and
// schedules the receipts: message.delivered after DeliveredAfter,
// message.read after ReadAfter, and message.played right after it for
// voice notes (type "audio" with body {"voice": true}). The receipts are
// stored with the count, so that they reach a later connection of the
// device when this one is gone by then (receipts.go).
func (s *Session) Send(ctx context.Context, m session.Outbound) (session.SendResult, error) {
	if m.ID == "" {
		return session.SendResult{}, fmt.Errorf("sim: send: %w: message id is required", session.ErrInvalid)
	}
	chat, err := toJID(m.To)
	if err != nil {
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, err)
	}
	s.mu.Lock()
	if s.phase != connected {
		s.mu.Unlock()
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, session.ErrNotConnected)
	}
	gen, jid := s.gen, s.jid
	s.mu.Unlock()
	// As whatsmeow's driver, the file is checked and uploaded before the
	// message goes out.
	ref, err := sentMedia(m)
	if err != nil {
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, err)
	}
	var failure int
	s.mu.Lock()
	if len(s.sendFailures) > 0 {
		failure, s.sendFailures = s.sendFailures[0], s.sendFailures[1:]
	}
	s.mu.Unlock()
	if failure != 0 {
		// As whatsmeow reports an error code in the server's answer.
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, &session.ServerError{Code: failure})
	}
	if notOnWhatsApp(chat) {
		// What whatsmeow answers once the account uses LIDs: the server
		// knows no LID for the number.
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w: no LID found for %s from server", m.ID, session.ErrNotOnWhatsApp, chat)
	}

	chatLID, err := s.lidOf(ctx, chat)
	if err != nil {
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, err)
	}
	due := s.receiptsOf(m.ID, chat, chatLID, isVoice(m))
	_, err = s.d.cfg.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, s.d.cfg.Keys.SimDeliveries(), m.ID, 1)
		p.Expire(ctx, s.d.cfg.Keys.SimDeliveries(), deliveriesTTL)
		return storeReceipts(ctx, p, s.d.cfg.Keys, jid, due)
	})
	if err != nil {
		return session.SendResult{}, fmt.Errorf("sim: send %s: %w", m.ID, err)
	}
	s.mu.Lock()
	if s.gen == gen {
		s.armReceiptsLocked(gen, due)
	}
	s.mu.Unlock()
	// The simulator's encoding of what it sent is the send body itself.
	if ref != nil {
		ref.Chat, ref.Sender = chat, jid
	}
	return session.SendResult{WAID: WAID(m.ID), Timestamp: s.d.cfg.Now(), Payload: m.Body, Media: ref}, nil
}

// deliveriesTTL bounds the life of the delivery counts after the last send,
// so that a simulator left running does not fill Redis.
const deliveriesTTL = 24 * time.Hour

func isVoice(m session.Outbound) bool {
	if m.Type != "audio" {
		return false
	}
	var body struct {
		Voice bool `json:"voice"`
	}
	return json.Unmarshal(m.Body, &body) == nil && body.Voice
}

// Disconnect closes the connection, keeping the device, and emits nothing.
// Events caused before it may still reach the sink after it returns, as
// they would from whatsmeow's dispatch goroutines; nothing happens after.
func (s *Session) Disconnect() {
	s.mu.Lock()
	if s.phase == offline {
		s.mu.Unlock()
		return
	}
	m := s.closeLocked()
	s.mu.Unlock()
	s.d.releaseDetached(m)
}

// Logout unlinks the device: it deletes it from sim_devices and closes the
// connection, if any, without an event (like whatsmeow's Logout). It works
// offline too, since the store is the simulated server's. The next Connect
// pairs anew. session.ErrNotPaired when there is no device.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	jid := s.jid
	s.mu.Unlock()
	if jid == "" {
		return fmt.Errorf("sim: logout %s: %w", s.channelID, session.ErrNotPaired)
	}
	if _, err := s.d.cfg.Store.DeleteSimDevice(ctx, jid); err != nil {
		return fmt.Errorf("sim: logout %s: %w", s.channelID, err)
	}
	s.mu.Lock()
	var m marker
	if s.phase != offline {
		m = s.closeLocked()
	}
	s.jid = ""
	s.mu.Unlock()
	s.d.release(ctx, m)
	return nil
}

// WebsocketHost is the host and port of WhatsApp's websocket
// (wss://web.whatsapp.com/ws/chat), which a proxied connection asks its
// proxy for.
const WebsocketHost = "web.whatsapp.com:443"

// Proxy is the session's proxy as the API shows it (password masked), ""
// when it connects directly.
func (s *Session) Proxy() string {
	if s.proxy == nil {
		return ""
	}
	return netproxy.Mask(s.proxy)
}

// connectFailed reports a connection attempt that failed before it began,
// as an event (the whatsmeow driver's Connect returns at once and reports
// failures the same way).
func (s *Session) connectFailed(f session.ConnectFailure) {
	s.mu.Lock()
	start := s.post(f)
	s.mu.Unlock()
	s.kick(start)
}
