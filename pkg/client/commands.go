package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/names"
)

// Command verbs: the last token of wa.cmd.<channel>.<verb>. Bodies are
// described by schemas/commands/<verb>.json; send takes a
// SendMessageRequest.
const (
	VerbStart     = "start"
	VerbStop      = "stop"
	VerbRestart   = "restart"
	VerbLogout    = "logout"
	VerbDelete    = "delete"
	VerbPairPhone = "pair_phone"
	VerbSend      = "send"
	VerbRead      = "read"
	VerbPresence  = "presence"
	VerbSim       = "sim"
)

// CommandPublisher publishes commands straight to NATS, the path that
// skips the HTTP API with the same validation, idempotency and results.
// The connection needs permission to publish wa.cmd.> and to receive
// replies (the gateway's nats-app.creds grants exactly that).
type CommandPublisher struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names names.NATS
}

// PublisherOption configures a CommandPublisher.
type PublisherOption func(*CommandPublisher)

// WithSubjectPrefix publishes to the fleet isolated by prefix (the
// server's WAGATE_NATS_PREFIX).
func WithSubjectPrefix(prefix string) PublisherOption {
	return func(p *CommandPublisher) { p.names = names.NewNATS(prefix) }
}

// NewCommandPublisher returns a publisher on nc.
func NewCommandPublisher(nc *nats.Conn, opts ...PublisherOption) (*CommandPublisher, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("client: jetstream: %w", err)
	}
	p := &CommandPublisher{nc: nc, js: js}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// PubAck is JetStream's answer to a publish: the command is stored.
type PubAck struct {
	Stream   string
	Sequence uint64
	// Duplicate is true when a command with the same Nats-Msg-Id was
	// stored before (within the stream's de-duplication window): this one
	// was dropped and will not run again.
	Duplicate bool
}

// Publish stores a command for channelID with msgID as its Nats-Msg-Id
// (its idempotency key; empty: a random one). body is encoded as JSON
// (nil: no body); []byte and json.RawMessage are sent as they are.
func (p *CommandPublisher) Publish(ctx context.Context, channelID, verb string, body any, msgID string) (*PubAck, error) {
	msg, err := p.message(channelID, verb, body, msgID)
	if err != nil {
		return nil, err
	}
	return p.publish(ctx, msg)
}

// Send publishes a send command: the message is queued as by
// POST /v1/channels/{id}/messages with Idempotency-Key key.
func (p *CommandPublisher) Send(ctx context.Context, channelID string, m SendMessageRequest, key string) (*PubAck, error) {
	return p.Publish(ctx, channelID, VerbSend, m, key)
}

// CommandOutcome is what a worker answered a command published with
// Request.
type CommandOutcome struct {
	// Status is "accepted" when the command ran (a send: the message is
	// queued); "duplicate" when JetStream dropped the command as a
	// duplicate of an earlier one, whose outcome went to that one's inbox.
	Status    string `json:"status"`
	Subject   string `json:"subject"`
	ChannelID string `json:"channel_id"`
	Verb      string `json:"verb"`
	MsgID     string `json:"msg_id,omitempty"`
	// Ack is JetStream's answer to the publish.
	Ack *PubAck `json:"-"`
}

// CommandFailedError is a command the worker refused for good: the data
// of its command.failed event.
type CommandFailedError struct {
	Subject   string `json:"subject"`
	ChannelID string `json:"channel_id,omitempty"`
	Verb      string `json:"verb,omitempty"`
	// MsgID is the command's Nats-Msg-Id.
	MsgID string `json:"msg_id,omitempty"`
	// Code is the reason: malformed_subject, malformed_body, invalid_body,
	// unknown_verb, unknown_channel, invalid_send or rejected.
	Code   string `json:"code"`
	Reason string `json:"reason"`
	// ErrorCode is the validation code of an invalid send
	// (validation_failed, invalid_recipient, …).
	ErrorCode string    `json:"error_code,omitempty"`
	At        time.Time `json:"at"`
}

func (e *CommandFailedError) Error() string {
	s := "wagate: command " + e.Subject + " failed: " + e.Code
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	return s + ": " + e.Reason
}

// ErrInboxPrefix is returned by Request when the connection's inboxes do
// not start with _INBOX.: workers answer only such inboxes.
var ErrInboxPrefix = errors.New("client: workers answer only inboxes under " + names.InboxPrefix + " (the connection uses a custom inbox prefix)")

// Request publishes a command like Publish and waits until its worker
// answers on an inbox named in Wagate-Reply-To: the outcome when the
// command ran, a *CommandFailedError when it was refused (IsCode works on
// it), or ctx's error when no answer came in time (the command is stored
// and may still run). A duplicate msgID returns at once with Status
// "duplicate".
func (p *CommandPublisher) Request(ctx context.Context, channelID, verb string, body any, msgID string) (*CommandOutcome, error) {
	msg, err := p.message(channelID, verb, body, msgID)
	if err != nil {
		return nil, err
	}
	inbox := p.nc.NewInbox()
	if !strings.HasPrefix(inbox, names.InboxPrefix) {
		return nil, ErrInboxPrefix
	}
	sub, err := p.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("client: subscribe %s: %w", inbox, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	msg.Header.Set(names.HeaderReplyTo, inbox)
	ack, err := p.publish(ctx, msg)
	if err != nil {
		return nil, err
	}
	if ack.Duplicate {
		return &CommandOutcome{Status: "duplicate", Subject: msg.Subject, ChannelID: channelID, Verb: verb, MsgID: msg.Header.Get(names.HeaderMsgID), Ack: ack}, nil
	}
	reply, err := sub.NextMsgWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: no outcome of %s (%s) yet: %w", msg.Subject, msg.Header.Get(names.HeaderMsgID), err)
	}
	if code := reply.Header.Get(names.HeaderError); code != "" {
		fe := &CommandFailedError{Code: code}
		if err := json.Unmarshal(reply.Data, fe); err != nil {
			fe.Reason = "undecodable answer: " + err.Error()
		}
		return nil, fe
	}
	var out CommandOutcome
	if err := json.Unmarshal(reply.Data, &out); err != nil {
		return nil, fmt.Errorf("client: decode outcome of %s: %w", msg.Subject, err)
	}
	out.Ack = ack
	return &out, nil
}

// SendAndWait publishes a send command and waits for its outcome (see
// Request): accepted once the message is queued, or a
// *CommandFailedError (invalid_send with the API's validation code in
// ErrorCode, unknown_channel, …).
func (p *CommandPublisher) SendAndWait(ctx context.Context, channelID string, m SendMessageRequest, key string) (*CommandOutcome, error) {
	return p.Request(ctx, channelID, VerbSend, m, key)
}

func (p *CommandPublisher) message(channelID, verb string, body any, msgID string) (*nats.Msg, error) {
	if channelID == "" || verb == "" || strings.ContainsAny(channelID+verb, ". *>\t\r\n") {
		return nil, fmt.Errorf("client: channel %q and verb %q must be single subject tokens", channelID, verb)
	}
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	case json.RawMessage:
		data = b
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("client: encode %s command: %w", verb, err)
		}
	}
	if msgID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		msgID = "cmd_" + hex.EncodeToString(b[:])
	}
	msg := nats.NewMsg(p.names.Cmd(channelID, verb))
	msg.Data = data
	msg.Header.Set(names.HeaderMsgID, msgID)
	return msg, nil
}

func (p *CommandPublisher) publish(ctx context.Context, msg *nats.Msg) (*PubAck, error) {
	ack, err := p.js.PublishMsg(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("client: publish %s: %w", msg.Subject, err)
	}
	return &PubAck{Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}
