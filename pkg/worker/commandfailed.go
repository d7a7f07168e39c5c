package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/schemas"
)

// Commands published straight to NATS fail visibly: a command that can
// never succeed is answered with command.failed — on its channel, or on
// the admin-level channel event.AdminChannel when the channel is unknown
// (admin-level webhook endpoints receive those, as they receive every
// channel's events) — and, when the publisher named an inbox in
// Wagate-Reply-To, with the same JSON on that inbox. The command is then
// terminated. When the event cannot be published the command is NAKed
// instead, so nothing fails silently.

// Reason codes of command.failed.
const (
	CodeMalformedSubject = "malformed_subject"
	CodeMalformedBody    = "malformed_body"
	CodeInvalidBody      = "invalid_body"
	CodeUnknownVerb      = "unknown_verb"
	CodeUnknownChannel   = "unknown_channel"
	CodeInvalidSend      = "invalid_send"
	CodeRejected         = "rejected"
)

// CommandFailed is the data of command.failed.
type CommandFailed struct {
	// Subject is the subject the command was published on.
	Subject string `json:"subject"`
	// ChannelID is the channel the subject names (also when unknown).
	ChannelID string `json:"channel_id,omitempty"`
	Verb      string `json:"verb,omitempty"`
	// MsgID is the command's Nats-Msg-Id (its idempotency key).
	MsgID  string `json:"msg_id,omitempty"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	// ErrorCode is the validation code of an invalid send
	// (validation_failed, invalid_recipient, ...).
	ErrorCode string    `json:"error_code,omitempty"`
	At        time.Time `json:"at"`
}

// CommandAccepted is the reply to a command that ran, for a publisher
// that named an inbox in Wagate-Reply-To.
type CommandAccepted struct {
	Status    string `json:"status"` // "accepted"
	Subject   string `json:"subject"`
	ChannelID string `json:"channel_id"`
	Verb      string `json:"verb"`
	MsgID     string `json:"msg_id,omitempty"`
}

// Errors that name the reason code of a rejected command.
var (
	errUnknownChannel = errors.New("unknown channel")
	errInvalidSend    = errors.New("invalid send")
)

// knownVerbs are the verbs a worker handles; the verb metric label takes
// only these (other verbs count as "other").
var knownVerbs = map[string]bool{
	command.Start: true, command.Stop: true, command.Restart: true, command.Logout: true, command.Delete: true,
	command.PairPhone: true, command.Send: true, command.Read: true, command.Presence: true, command.Sim: true,
	command.DownloadMedia: true,
}

func verbLabel(verb string) string {
	if knownVerbs[verb] {
		return verb
	}
	return "other"
}

// failCommand publishes command.failed for msg (on channelID, or at admin
// level when channelID is empty), replies to the publisher's inbox, and
// terminates msg; when the event cannot be published msg is NAKed for
// another attempt.
func (w *Worker) failCommand(ctx context.Context, epoch int64, msg jetstream.Msg, channelID, verb string, d CommandFailed) {
	d.Subject = w.cfg.Bus.Names.Cmd(d.ChannelID, d.Verb)
	if d.ChannelID == "" || d.Verb == "" {
		d.Subject = msg.Subject() // malformed: the stored subject is all there is
	}
	d.MsgID = msg.Headers().Get(names.HeaderMsgID)
	d.At = time.Now().UTC()
	on := channelID
	if on == "" {
		on = event.AdminChannel
	}
	metricCommands.WithLabelValues(verbLabel(verb), d.Code).Inc()
	w.log.Warn("command failed", "channel_id", d.ChannelID, "verb", verb, "msg_id", d.MsgID, "code", d.Code, "reason", d.Reason)
	ev, err := event.New(event.CommandFailed, on, epoch, d.At, d)
	if err == nil {
		_, err = w.cfg.Bus.PublishEvent(ctx, ev)
	}
	if err != nil {
		w.log.Error("cannot publish command.failed; the command will be redelivered", "err", err)
		_ = msg.NakWithDelay(2 * time.Second)
		return
	}
	w.reply(msg, d, d.Code)
	_ = msg.Term()
}

// reply answers a publisher that named an inbox in Wagate-Reply-To. Only
// inboxes (_INBOX.…) are answered, so a header cannot make a worker publish
// on another subject (an event's, say).
func (w *Worker) reply(msg jetstream.Msg, v any, errCode string) {
	to := msg.Headers().Get(names.HeaderReplyTo)
	if to == "" || !strings.HasPrefix(to, names.InboxPrefix) || strings.ContainsAny(to, " \t\r\n*>") {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	out := &nats.Msg{Subject: to, Data: data, Header: nats.Header{}}
	if errCode != "" {
		out.Header.Set(names.HeaderError, errCode)
	}
	_ = w.cfg.Bus.Conn.PublishMsg(out) // the publisher may be gone: nothing to do then
}

// commandSchemas are the published command schemas (schemas/commands).
var commandSchemas = sync.OnceValues(schemas.NewValidator)

// invalidBody checks a command's body against its verb's published schema
// and says what is wrong, or "" when it matches. A message published
// straight to NATS (a send without message_id) is checked by
// messaging.Parse instead, which answers with the API's validation codes
// (invalid_recipient, …) in message.failed; its schema describes the same
// body.
func invalidBody(verb string, env command.Envelope, raw []byte) string {
	if verb == command.Send && env.MessageID == "" {
		return ""
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	v, err := commandSchemas()
	if err != nil {
		return "" // the embedded schemas are checked by their own tests
	}
	if err := v.ValidateCommand(verb, raw); err != nil {
		if errors.Is(err, schemas.ErrNoSchema) {
			return ""
		}
		return "the body does not match schemas/commands (" + verb + "): " + err.Error()
	}
	return ""
}
