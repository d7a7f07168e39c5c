package session

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors drivers return.
var (
	// ErrNotPaired: the operation needs a paired device.
	ErrNotPaired = errors.New("session: not paired")
	// ErrNotConnected: the operation needs a live connection.
	ErrNotConnected = errors.New("session: not connected")
	// ErrUnsupported: the driver cannot do this.
	ErrUnsupported = errors.New("session: unsupported by this driver")
	// ErrInvalid: the request is malformed and retrying cannot help.
	ErrInvalid = errors.New("session: invalid request")
)

// Driver opens sessions.
type Driver interface {
	// Name is the driver's name as configured: "whatsmeow" or "sim".
	Name() string
	// Open prepares the session of a channel without connecting. jid is the
	// paired device ("" when the channel has none yet).
	Open(ctx context.Context, o Options) (Session, error)
}

// Options are what a driver needs to open a channel's session.
type Options struct {
	ChannelID string
	// JID of the paired device, "" when not paired.
	JID string
	// Sink receives the session's events.
	Sink Sink
	// Messages reads back what the channel's message log keeps of its
	// messages: what a driver needs after a reconnect or a failover, when
	// its own memory of recent sends is gone (retry receipts, poll
	// options). Optional: nil knows nothing.
	Messages MessageLog
	// Proxy is the URL of the proxy the session reaches WhatsApp through
	// (socks5://, http:// or https://, with credentials; package
	// netproxy), "" to connect directly. It applies to every connection of
	// the session. A connection that fails at or through the proxy ends
	// in a retryable ConnectFailure with reason state.ReasonProxyUnreachable.
	Proxy string
}

// MessageLog is what a driver may read of its channel's message log.
// Lookups are by WhatsApp message id.
type MessageLog interface {
	// SentPayload returns the Payload (see SendResult) recorded with the
	// message the channel sent under WhatsApp id waID; nil without error
	// when there is none (unknown id, or not recorded as sent yet).
	SentPayload(ctx context.Context, waID string) ([]byte, error)
	// PollOptions returns the option names of the poll with WhatsApp id
	// waID, sent or received by the channel; nil without error when the
	// log has no such poll.
	PollOptions(ctx context.Context, waID string) ([]string, error)
}

// Session is one channel's WhatsApp connection.
type Session interface {
	// Connect starts connecting (pairing first when not paired). ctx bounds
	// the whole life of the connection, not just the call.
	Connect(ctx context.Context) error
	// PairPhone asks for a pairing code for phone (digits, international
	// form) instead of a QR scan; only while pairing.
	PairPhone(ctx context.Context, phone string) (code string, err error)
	// Send sends one message and returns when the server accepted it.
	Send(ctx context.Context, m Outbound) (SendResult, error)
	// Disconnect closes the connection, keeping the device linked.
	Disconnect()
	// Logout unlinks the device and deletes it from the store.
	Logout(ctx context.Context) error
}

// Sink receives a session's events. Implementations must be safe for
// concurrent use.
type Sink interface {
	Emit(ev Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(ev Event) { f(ev) }

// Event is any of the event structs below.
type Event interface{ sessionEvent() }

// QR is one QR code to show; Attempt counts from 1.
type QR struct {
	Code        string
	ExpiresAt   time.Time
	Attempt     int
	MaxAttempts int
}

// QRTimeout: every QR code expired without a scan (terminal, not retried).
type QRTimeout struct{}

// PairingCode is a phone pairing code (XXXX-XXXX).
type PairingCode struct {
	Code      string
	Phone     string
	ExpiresAt time.Time
}

// PairSuccess: a phone linked the device; Connected follows.
type PairSuccess struct {
	JID          string
	Phone        string
	PushName     string
	BusinessName string
	Platform     string
}

// PairError: the phone tried to link but the pairing failed.
type PairError struct{ Reason string }

// Connecting: the session is (re)establishing its connection.
type Connecting struct{}

// Connected: the session is online and can send.
type Connected struct{}

// Disconnected: the server or network closed the connection; the worker
// reconnects with backoff.
type Disconnected struct{ Reason string }

// LoggedOut: the device was unlinked (from the phone, or by the server);
// the stored device is gone and a new pairing is needed.
type LoggedOut struct{ Reason string }

// StreamReplaced: another connection of the same device took over.
type StreamReplaced struct{}

// TemporaryBan: the number is banned until Until.
type TemporaryBan struct {
	Code  string
	Until time.Time
}

// ConnectFailure: the connection could not be established. Retryable
// failures are retried with backoff.
type ConnectFailure struct {
	Reason    string
	Message   string
	Retryable bool
}

// ClientOutdated: WhatsApp refuses this client version; the operator must
// upgrade wagate.
type ClientOutdated struct{}

// KeepAlive reports the health of the connection's keep-alives.
type KeepAlive struct {
	OK          bool
	ErrorCount  int
	LastSuccess time.Time
}

// Inbound is any other event (messages, receipts, presence, groups,
// calls) already translated into wagate's event type and data; the worker
// publishes it as is.
type Inbound struct {
	Type string
	Data json.RawMessage
	// MessageID and Status are set for receipts and acks so the message log
	// can advance (status: sent, delivered, read, played, failed).
	MessageIDs []string
	Status     string
	At         time.Time
	// Media, set on a received media message, is what downloading its
	// file takes (see MediaDownloader).
	Media *MediaRef
	// Ack, when set, must be called once with the outcome of recording the
	// event: nil once it is stored and its event committed for
	// publication, the error otherwise (or never, when the session closed
	// first). The driver acknowledges the message to WhatsApp only after a
	// nil Ack; a message not acknowledged is delivered again on the next
	// connection, so a worker killed between receiving and recording it
	// loses nothing. Drivers set it on received messages.
	Ack func(err error)
}

// Acknowledge calls e.Ack with err when it is set.
func (e Inbound) Acknowledge(err error) {
	if e.Ack != nil {
		e.Ack(err)
	}
}

// Outbound is a message to send, already validated. Body is the command
// JSON of its type (schemas/commands/send.json).
type Outbound struct {
	// ID is wagate's message id; drivers pass it (or a value derived from
	// it) to WhatsApp so a retried send is recognised and never doubled.
	ID   string
	To   string
	Type string
	Body json.RawMessage
}

// SendResult reports a send the server accepted.
type SendResult struct {
	// WAID is WhatsApp's id of the sent message.
	WAID      string
	Timestamp time.Time
	// Payload is the message as the driver sent it, in the driver's own
	// encoding (whatsmeow: the protobuf waE2E.Message, media keys, poll
	// secret and all). The worker records it with the message so that the
	// driver can send exactly the same message again when a recipient's
	// device asks for it (MessageLog.SentPayload), whichever worker runs
	// the session by then. Optional.
	Payload []byte
	// Media, for a media message, is its file as WhatsApp knows it: the
	// keys the upload returned (which download it again) and what the
	// message shows before it is fetched (thumbnail, seconds, waveform).
	// The worker keeps it in the message log, as it does for received
	// media.
	Media *MediaRef
}

func (QR) sessionEvent()             {}
func (QRTimeout) sessionEvent()      {}
func (PairingCode) sessionEvent()    {}
func (PairSuccess) sessionEvent()    {}
func (PairError) sessionEvent()      {}
func (Connecting) sessionEvent()     {}
func (Connected) sessionEvent()      {}
func (Disconnected) sessionEvent()   {}
func (LoggedOut) sessionEvent()      {}
func (StreamReplaced) sessionEvent() {}
func (TemporaryBan) sessionEvent()   {}
func (ConnectFailure) sessionEvent() {}
func (ClientOutdated) sessionEvent() {}
func (KeepAlive) sessionEvent()      {}
func (Inbound) sessionEvent()        {}
