package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
)

// metricUntranslated counts the whatsmeow events that produce no session
// event (history sync, app state, keys, and kinds wagate does not report
// yet), by Go type, so that they are visible instead of vanishing.
var metricUntranslated = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "wagate_whatsmeow_events_untranslated_total",
	Help: "whatsmeow events that produced no wagate event, by type.",
}, []string{"type"})

// defaultQRCodes is how many codes WhatsApp sends for one pairing when the
// count is not known yet.
const defaultQRCodes = 6

// Session is one channel's whatsmeow connection. Its methods are called
// from the channel's mailbox goroutine (see package session); whatsmeow
// calls its event handler from its own goroutines.
type Session struct {
	d         *Driver
	channelID string
	sink      session.Sink
	messages  session.MessageLog // nil: none
	proxy     string             // session.Options.Proxy
	log       *slog.Logger
	waLog     waLog.Logger

	mu   sync.Mutex
	jid  types.JID // the paired device (AD-JID); empty until paired
	conn *conn     // the current connection; nil before Connect and after Disconnect
	// retries are the media retries waiting for the phone, by message id
	// (download.go).
	retries map[string]chan *events.MediaRetry
}

var (
	_ session.Session    = (*Session)(nil)
	_ Reader             = (*Session)(nil)
	_ Presencer          = (*Session)(nil)
	_ PresenceSubscriber = (*Session)(nil)
)

// conn is one connection attempt: a fresh whatsmeow client on a fresh
// device store, living until its context ends. Nothing it does reaches
// the sink once it is closed.
type conn struct {
	s      *Session
	ctx    context.Context
	cancel context.CancelFunc
	cli    atomic.Pointer[wa.Client]

	// emitMu makes close wait for an event being emitted, so that no
	// event follows Disconnect.
	emitMu sync.RWMutex
	closed bool

	qrCodes atomic.Int32 // codes in the current QR event
	// relogin is set between PairSuccess's stream restart (515) and the
	// reconnection we make for it, whose disconnection is expected.
	relogin atomic.Bool

	history historyQueue // history.go
}

// errConnected: Connect was called while a connection is up or underway.
var errConnected = errors.New("whatsmeow: already connected; disconnect first")

// Connect starts connecting in the background and returns at once:
// pairing (QR codes) when the channel has no device, else logging in with
// the stored one. ctx bounds the connection's whole life. Progress and
// failures arrive as events: a WhatsApp that cannot be reached within
// Config.DialTimeout is a retryable session.ConnectFailure with reason
// whatsapp_unreachable. A session connects once at a time: Connect fails
// while a connection is up or underway, and works again after Disconnect
// or after the connection ended (any event that ends it, see ends).
func (s *Session) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && s.conn.ctx.Err() == nil {
		return errConnected
	}
	cctx, cancel := context.WithCancel(ctx)
	c := &conn{s: s, ctx: cctx, cancel: cancel}
	s.conn = c
	go c.run(s.jid)
	return nil
}

// run opens the device and connects. It never retries: reconnecting is
// the worker's decision (backoff, leases).
func (c *conn) run(jid types.JID) {
	s := c.s
	var dev *store.Device
	if jid.IsEmpty() {
		dev = s.d.container.NewDevice()
	} else {
		var err error
		// A fresh *store.Device every time: a device object must never
		// outlive its connection, since another worker may have used the
		// keys since.
		dev, err = s.d.container.GetDevice(c.ctx, jid)
		switch {
		case c.ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("cannot load the device from the store", "err", err)
			c.emit(session.ConnectFailure{Reason: ReasonStoreUnavailable, Message: err.Error(), Retryable: true})
			return
		case dev == nil:
			s.log.Warn("the channel's device is not in the store; it must be paired again", "jid", jid.String())
			c.emit(session.LoggedOut{Reason: state.ReasonDeviceMissing})
			return
		}
	}
	s.d.checkVersion(c.ctx)
	cli, err := c.newClient(dev)
	if err != nil {
		s.log.Warn("cannot use the channel's proxy", "err", err)
		c.emit(session.ConnectFailure{Reason: state.ReasonProxyUnreachable, Message: err.Error()})
		return
	}
	if dev.ID == nil {
		qr, err := cli.GetQRChannel(c.ctx)
		if err != nil {
			c.emit(session.ConnectFailure{Reason: "qr_unavailable", Message: err.Error()})
			return
		}
		go c.watchQR(qr)
	}
	go func() {
		// The lease's context ends the connection whatever else happens.
		<-c.ctx.Done()
		cli.Disconnect()
	}()
	if err := cli.ConnectContext(c.ctx); err != nil && c.ctx.Err() == nil {
		s.log.Warn("cannot connect to WhatsApp", "err", err, "proxy", s.proxy != "")
		c.emit(session.ConnectFailure{Reason: s.dialFailure(err), Message: err.Error(), Retryable: true})
	}
}

// dialFailure is the reason of a failed connection attempt: through a
// proxy, a failure to open the websocket happened at or behind the proxy
// (unreachable, credentials refused, WhatsApp unreachable from it) and is
// proxy_unreachable; a failure after the websocket opened (the Noise
// handshake) and any failure without a proxy is whatsapp_unreachable.
func (s *Session) dialFailure(err error) string {
	if s.proxy != "" && !strings.HasPrefix(err.Error(), "noise handshake failed") {
		return state.ReasonProxyUnreachable
	}
	return state.ReasonUnreachable
}

// newClient makes the connection's client for dev: its events go to
// handle, retry receipts are answered from the message log, and its
// background work ends with the connection.
func (c *conn) newClient(dev *store.Device) (*wa.Client, error) {
	cli, err := c.s.d.newClient(dev, c.s.waLog, c.s.proxy)
	if err != nil {
		return nil, err
	}
	cli.BackgroundEventCtx = c.ctx
	c.cli.Store(cli)
	// Registered before GetQRChannel's handler, so that the number of codes
	// is known when the first one is shown.
	cli.AddEventHandlerWithSuccessStatus(c.handle)
	cli.GetMessageForRetry = c.messageForRetry
	return cli, nil
}

// newClient makes a whatsmeow client for dev with wagate's policies:
// no reconnection of its own, shared HTTP clients, bounded history. With
// a proxy (a URL netproxy accepts) the client gets HTTP clients of its
// own whose transport whatsmeow's SetProxyAddress points at the proxy:
// the websocket before and after login and media uploads and downloads
// all go through it (SetProxyAddress sets the transport of the clients
// it is given, so the shared ones must not be).
func (d *Driver) newClient(dev *store.Device, log waLog.Logger, proxy string) (*wa.Client, error) {
	cli := wa.NewClient(dev, log)
	cli.EnableAutoReconnect = false
	cli.InitialAutoReconnect = false
	// After pairing, WhatsApp restarts the stream (515); we reconnect for
	// it ourselves so that a failure is reported, not just logged.
	cli.DisableLoginAutoReconnect = true
	cli.ManualHistorySyncDownload = d.cfg.HistorySyncDays < 0
	// A message is acknowledged to WhatsApp only after our handler
	// returned true, that is after the worker recorded it (see deliver);
	// WhatsApp delivers an unacknowledged message again. The decrypted
	// event buffer keeps its plaintext in the store until then, since the
	// Signal session has moved on and could not decrypt it a second time.
	cli.SynchronousAck = true
	cli.EnableDecryptedEventBuffer = true
	cli.SetWebsocketHTTPClient(d.ws)
	cli.SetPreLoginHTTPClient(d.ws)
	cli.SetMediaHTTPClient(d.cfg.MediaHTTPClient)
	if proxy != "" {
		ws, media := *d.ws, *d.cfg.MediaHTTPClient
		cli.SetWebsocketHTTPClient(&ws)
		cli.SetPreLoginHTTPClient(&ws)
		cli.SetMediaHTTPClient(&media)
		if err := cli.SetProxyAddress(proxy); err != nil {
			return nil, fmt.Errorf("whatsmeow: proxy: %w", err)
		}
	}
	return cli, nil
}

// watchQR turns the QR channel's codes into session.QR events.
func (c *conn) watchQR(ch <-chan wa.QRChannelItem) {
	attempt, total := 0, 0
	for {
		select {
		case <-c.ctx.Done():
			return
		case item, ok := <-ch:
			if !ok {
				return
			}
			switch item.Event {
			case wa.QRChannelEventCode:
				attempt++
				total = max(int(c.qrCodes.Load()), attempt)
				c.emit(session.QR{Code: item.Code, ExpiresAt: c.s.d.cfg.Now().Add(item.Timeout).UTC(), Attempt: attempt, MaxAttempts: total})
			case wa.QRChannelTimeout.Event:
				// Also sent when the socket closed before the codes ran
				// out; the Disconnected event reports that case.
				if attempt > 0 && attempt >= total {
					c.emit(session.QRTimeout{})
				}
			case wa.QRChannelSuccess.Event:
				c.s.log.Info("QR code scanned; device linked")
			case wa.QRChannelScannedWithoutMultidevice.Event:
				c.s.log.Warn("QR code scanned by a phone without multi-device support; the same code can be scanned again after updating WhatsApp")
			default:
				// Errors, client outdated, unexpected state: their events
				// are translated by handle.
				c.s.log.Debug("QR channel ended", "event", item.Event)
			}
		}
	}
}

// handle receives every whatsmeow event of the connection. It returns
// false for a message or receipt the worker did not record: whatsmeow
// then sends no acknowledgement and WhatsApp delivers it again.
func (c *conn) handle(evt any) bool {
	s := c.s
	switch e := evt.(type) {
	case *events.QR:
		codes := len(e.Codes)
		if codes == 0 {
			codes = defaultQRCodes
		}
		c.qrCodes.Store(int32(codes))
		return true
	case *events.ManualLoginReconnect:
		c.relogin.Store(true)
		go c.reconnectAfterPairing()
		return true
	case *events.Disconnected:
		if c.relogin.Load() {
			return true
		}
	case *events.Connected:
		c.relogin.Store(false)
	case *events.PairSuccess:
		s.mu.Lock()
		s.jid = e.ID
		s.mu.Unlock()
		s.log.Info("device paired", "platform", e.Platform)
	case *events.LoggedOut:
		// whatsmeow has deleted the device already.
		s.mu.Lock()
		s.jid = types.EmptyJID
		s.mu.Unlock()
		s.log.Warn("device logged out by WhatsApp", "reason", e.Reason.String(), "on_connect", e.OnConnect)
	case *events.ClientOutdated:
		s.log.Error("WhatsApp rejects this client version (405): upgrade go.mau.fi/whatsmeow in wagate and redeploy the workers")
	case *events.TemporaryBan:
		s.log.Warn("number temporarily banned by WhatsApp", "ban", e.String())
	case *events.StreamReplaced:
		s.log.Warn("another connection of this device replaced this one")
	case *events.StreamError:
		s.log.Warn("WhatsApp closed the stream with an unknown error", "code", e.Code)
	case *events.ConnectFailure:
		s.log.Warn("WhatsApp refused the connection", "reason", e.Reason.String())
	case *events.KeepAliveTimeout:
		s.log.Debug("keep-alive timed out", "errors", e.ErrorCount)
	case *events.OfflineSyncCompleted:
		s.log.Debug("offline messages received", "count", e.Count)
	case *events.MediaRetry:
		s.onMediaRetry(e)
		return true
	case *events.HistorySync:
		c.onHistory(e.Data) // history.go
		return true
	}
	if m, ok := evt.(*events.Message); ok && m.Message.GetPollUpdateMessage() != nil {
		return c.pollVote(m)
	}
	_, isMessage := evt.(*events.Message)
	_, isReceipt := evt.(*events.Receipt)
	evs := translateWith(evt, s.d.cfg.Now(), c.storePN)
	if len(evs) == 0 {
		metricUntranslated.WithLabelValues(fmt.Sprintf("%T", evt)).Inc()
	}
	for _, ev := range evs {
		if ps, ok := ev.(session.PairSuccess); ok {
			if cli := c.cli.Load(); cli != nil {
				ps.PushName = cli.Store.PushName
			}
			ev = ps
		}
		if in, ok := ev.(session.Inbound); ok && (isMessage || isReceipt) {
			if !c.deliver(in) {
				return false
			}
			continue
		}
		c.emit(ev)
	}
	return true
}

// pollVote delivers a poll vote like a message (see deliver). A vote
// that can never be decrypted is dropped and counted; one whose poll the
// message log could not be asked about is not acknowledged, so WhatsApp
// delivers it again.
func (c *conn) pollVote(e *events.Message) bool {
	cli := c.cli.Load()
	if cli == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, storeLookupTimeout)
	in, err := pollVote(ctx, cli, c.s.messages, e, c.s.d.cfg.Now(), c.storePN)
	cancel()
	switch {
	case errors.Is(err, errPollVoteUnreadable):
		c.s.log.Warn("poll vote dropped: its poll's secret is unknown", "err", err)
		metricUntranslated.WithLabelValues("poll_vote_undecryptable").Inc()
		return true
	case err != nil:
		if c.ctx.Err() == nil {
			c.s.log.Warn("poll vote not recorded; reconnecting so that WhatsApp delivers it again", "err", err)
			c.emit(session.Disconnected{Reason: session.ReasonInboundNotRecorded})
		}
		return false
	}
	return c.deliver(in)
}

// messageForRetry implements whatsmeow's GetMessageForRetry (see
// messageForRetry in polls.go).
func (c *conn) messageForRetry(requester, to types.JID, id types.MessageID) *waE2E.Message {
	msg, err := messageForRetry(c.ctx, c.s.messages, storeLookupTimeout, id)
	switch {
	case err != nil:
		c.s.log.Warn("cannot read a sent message for a retry receipt; the recipient keeps waiting for it", "wa_id", id, "err", err)
	case msg == nil:
		c.s.log.Info("retry receipt for a message the log does not keep", "wa_id", id, "requester", requester.String())
	default:
		c.s.log.Debug("resending a message from the log for a retry receipt", "wa_id", id, "to", to.String())
	}
	return msg
}

// deliver emits a received message and waits until the worker recorded it
// (its Ack), bounded by the connection's life and Config.AckTimeout. It
// reports whether WhatsApp may be told the message arrived. When the
// worker could not record it, or did not answer in time, the connection
// ends with Disconnected{Reason: "inbound_not_recorded"}: the worker
// reconnects with backoff and WhatsApp delivers the message again.
func (c *conn) deliver(in session.Inbound) bool {
	done := make(chan error, 1)
	in.Ack = func(err error) {
		select {
		case done <- err:
		default: // acknowledged already
		}
	}
	if !c.emit(in) {
		return false
	}
	timer := time.NewTimer(c.s.d.cfg.AckTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
		if err == nil {
			return true
		}
	case <-timer.C:
		err = fmt.Errorf("not recorded within %s", c.s.d.cfg.AckTimeout)
	case <-c.ctx.Done():
		return false
	}
	c.s.log.Warn("inbound message not recorded; reconnecting so that WhatsApp delivers it again", "err", err)
	c.emit(session.Disconnected{Reason: session.ReasonInboundNotRecorded})
	return false
}

// reconnectAfterPairing reconnects after the stream restart that follows
// a pairing; the new connection logs in with the just-saved device.
func (c *conn) reconnectAfterPairing() {
	cli := c.cli.Load()
	if cli == nil || c.ctx.Err() != nil {
		return
	}
	cli.Disconnect()
	if err := cli.ConnectContext(c.ctx); err != nil && c.ctx.Err() == nil {
		c.relogin.Store(false)
		c.s.log.Warn("cannot reconnect after pairing", "err", err)
		c.emit(session.ConnectFailure{Reason: state.ReasonUnreachable, Message: "reconnect after pairing: " + err.Error(), Retryable: true})
	}
}

// emit hands ev to the sink unless the connection is closed. An event
// that ends the connection ends it here: its context is cancelled, which
// releases the client and its goroutines and lets Connect be called again.
// It reports whether ev reached the sink.
func (c *conn) emit(ev session.Event) bool {
	c.emitMu.RLock()
	defer c.emitMu.RUnlock()
	if c.closed || c.ctx.Err() != nil {
		return false
	}
	c.s.sink.Emit(ev)
	if ends(ev) {
		c.cancel()
	}
	return true
}

// ends reports whether ev means the connection is over.
func ends(ev session.Event) bool {
	switch ev.(type) {
	case session.Disconnected, session.ConnectFailure, session.LoggedOut, session.StreamReplaced,
		session.TemporaryBan, session.ClientOutdated, session.QRTimeout, session.PairError:
		return true
	}
	return false
}

// close ends the connection: no event is emitted after it returns.
func (c *conn) close() {
	c.emitMu.Lock()
	c.closed = true
	c.emitMu.Unlock()
	c.cancel()
	if cli := c.cli.Load(); cli != nil {
		cli.Disconnect()
	}
}

// client is the current connection's client, nil when there is none.
func (s *Session) client() *wa.Client {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil || c.ctx.Err() != nil {
		return nil
	}
	return c.cli.Load()
}

// PairPhone asks WhatsApp for a code to link the device by typing it on
// the phone (phone in international form), instead of scanning a QR code.
// It works while QR codes are being shown: after Connect and the first
// session.QR.
func (s *Session) PairPhone(ctx context.Context, phone string) (string, error) {
	if err := validatePhone(phone); err != nil {
		return "", fmt.Errorf("whatsmeow: pair phone: %w", err)
	}
	cli := s.client()
	if cli == nil || !cli.IsConnected() {
		return "", fmt.Errorf("whatsmeow: pair phone: %w", session.ErrNotConnected)
	}
	if cli.Store.ID != nil {
		return "", fmt.Errorf("whatsmeow: pair phone: %w: the device is already paired", session.ErrInvalid)
	}
	code, err := cli.PairPhone(ctx, phone, true, wa.PairClientChrome, s.d.cfg.PairDisplayName)
	switch {
	case errors.Is(err, wa.ErrPhoneNumberTooShort), errors.Is(err, wa.ErrPhoneNumberIsNotInternational):
		return "", fmt.Errorf("whatsmeow: pair phone: %w: %v", session.ErrInvalid, err)
	case err != nil:
		return "", fmt.Errorf("whatsmeow: pair phone: %w", err)
	}
	s.log.Info("pairing code issued")
	return code, nil
}

// Send builds m (see SendBody), uploads its media and sends it under
// MessageID(m.ID), returning when WhatsApp's server acknowledged it.
// session.ErrInvalid for a body that cannot be sent as it is.
func (s *Session) Send(ctx context.Context, m session.Outbound) (session.SendResult, error) {
	if m.ID == "" {
		return session.SendResult{}, fmt.Errorf("whatsmeow: send: %w: message id is required", session.ErrInvalid)
	}
	body, err := decodeBody(m)
	if err != nil {
		return session.SendResult{}, err
	}
	to, err := ParseJID(body.To)
	if err != nil {
		return session.SendResult{}, err
	}
	cli, err := s.loggedIn()
	if err != nil {
		return session.SendResult{}, fmt.Errorf("whatsmeow: send %s: %w", m.ID, err)
	}
	bd := &builder{self: cli.Store.GetJID().ToNonAD(), selfLID: cli.Store.GetLID().ToNonAD(), up: cli, fetch: s.d.fetch}
	msg, err := bd.build(ctx, to, body)
	if err != nil {
		return session.SendResult{}, fmt.Errorf("whatsmeow: send %s: %w", m.ID, err)
	}
	resp, err := cli.SendMessage(ctx, to, msg, wa.SendRequestExtra{ID: MessageID(m.ID)})
	if err != nil {
		return session.SendResult{}, fmt.Errorf("whatsmeow: send %s: %w", m.ID, sendError(err))
	}
	// Marshalled after sending: SendMessage may add a message secret.
	payload, err := proto.Marshal(msg)
	if err != nil {
		s.log.Warn("cannot encode the sent message for the log; retry receipts after a reconnect cannot be answered", "message_id", m.ID, "err", err)
	}
	self := cli.Store.GetJID().ToNonAD()
	ref := mediaRef(msg, &types.MessageInfo{ID: resp.ID, MessageSource: types.MessageSource{Chat: to, Sender: self, IsFromMe: true, IsGroup: to.Server == types.GroupServer}})
	return session.SendResult{WAID: resp.ID, Timestamp: resp.Timestamp.UTC(), Payload: payload, Media: ref}, nil
}

// loggedIn is the client when it can act for the account.
func (s *Session) loggedIn() (*wa.Client, error) {
	cli := s.client()
	switch {
	case cli == nil:
		return nil, session.ErrNotConnected
	case cli.Store.ID == nil:
		return nil, session.ErrNotPaired
	case !cli.IsLoggedIn():
		return nil, session.ErrNotConnected
	}
	return cli, nil
}

// sendError maps whatsmeow's send errors to the session's. whatsmeow
// reports a number without WhatsApp (once the account migrated to LIDs,
// send.go looks the recipient's LID up and finds none) and the server's
// error codes as plain errors: they are classified here so that the worker
// fails the message instead of retrying it forever.
func sendError(err error) error {
	switch {
	case strings.Contains(err.Error(), "no LID found for"):
		return errors.Join(session.ErrNotOnWhatsApp, err)
	case errors.Is(err, wa.ErrServerReturnedError):
		code, _ := strconv.Atoi(strings.TrimSpace(err.Error()[strings.LastIndex(err.Error(), " ")+1:]))
		return &session.ServerError{Code: code, Err: err}
	case errors.Is(err, wa.ErrNotConnected):
		return errors.Join(session.ErrNotConnected, err)
	case errors.Is(err, wa.ErrNotLoggedIn):
		return errors.Join(session.ErrNotPaired, err)
	case errors.Is(err, wa.ErrRecipientADJID), errors.Is(err, wa.ErrUnknownServer), errors.Is(err, wa.ErrBroadcastListUnsupported):
		return errors.Join(session.ErrInvalid, err)
	}
	return err
}

// Disconnect closes the connection without unlinking the device and emits
// nothing.
func (s *Session) Disconnect() {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// Logout unlinks the device at WhatsApp and deletes it from the store.
// Without a live connection it connects for the purpose (within
// DialTimeout); when WhatsApp cannot be told, the device is still deleted
// locally and the error says so. Emits nothing.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	jid := s.jid
	s.mu.Unlock()
	if jid.IsEmpty() {
		return fmt.Errorf("whatsmeow: logout %s: %w", s.channelID, session.ErrNotPaired)
	}
	cli, err := s.loggedIn()
	if err != nil {
		s.Disconnect()
		cli, err = s.logoutClient(ctx, jid)
		if cli == nil && err == nil {
			s.forget()
			return nil // already gone from the store
		}
	}
	if err == nil {
		err = cli.Logout(ctx)
	}
	if err != nil && cli != nil {
		// WhatsApp was not told; unlink locally all the same, so that the
		// channel can be paired again. The phone lists the device until
		// it is removed there.
		cli.Disconnect()
		if derr := cli.Store.Delete(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("delete the device locally: %w", derr))
		}
	}
	s.Disconnect()
	s.forget()
	if err != nil {
		return fmt.Errorf("whatsmeow: logout %s (device deleted locally): %w", s.channelID, err)
	}
	s.log.Info("device logged out")
	return nil
}

// logoutClient connects the stored device jid just to log it out; nil
// without error when the store no longer has it. Its events go nowhere.
func (s *Session) logoutClient(ctx context.Context, jid types.JID) (*wa.Client, error) {
	dev, err := s.d.container.GetDevice(ctx, jid)
	if err != nil || dev == nil {
		return nil, err
	}
	cli, err := s.d.newClient(dev, s.waLog, s.proxy)
	if err != nil {
		return nil, err
	}
	if err := cli.ConnectContext(ctx); err != nil {
		return cli, err
	}
	if !cli.WaitForConnection(s.d.cfg.DialTimeout) {
		return cli, errors.New("timed out logging in to log out")
	}
	return cli, nil
}

func (s *Session) forget() {
	s.mu.Lock()
	s.jid = types.EmptyJID
	s.mu.Unlock()
}

// validatePhone checks phone as whatsmeow's PairPhone does before it asks
// the server: more than 6 digits, in international form.
func validatePhone(phone string) error {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	switch {
	case len(digits) <= 6:
		return fmt.Errorf("%w: phone number %q is too short", session.ErrInvalid, phone)
	case digits[0] == '0':
		return fmt.Errorf("%w: phone number %q is not in international form (no leading 0)", session.ErrInvalid, phone)
	}
	return nil
}

// parseDeviceJID parses a stored device JID ("15551234567:12@s.whatsapp.net").
func parseDeviceJID(v string) (types.JID, error) {
	j, err := types.ParseJID(strings.TrimSpace(v))
	if err != nil || j.User == "" || (j.Server != types.DefaultUserServer && j.Server != types.HiddenUserServer) {
		return types.EmptyJID, fmt.Errorf("%w: bad device JID %q", session.ErrInvalid, v)
	}
	return j, nil
}
