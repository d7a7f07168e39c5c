package names

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Message headers.
const (
	// HeaderMsgID is JetStream's de-duplication header; wagate sets it to the
	// command's idempotency key or the event id.
	HeaderMsgID = "Nats-Msg-Id"
	// HeaderEpoch carries the fencing epoch of the worker that published an event.
	HeaderEpoch = "Wagate-Epoch"
	// HeaderError is set on replies to request/reply commands that failed;
	// its value is the error code of the reply.
	HeaderError = "Wagate-Error"
	// HeaderReplyTo, on a command published straight to NATS, names an
	// inbox (InboxPrefix…) that receives the command's outcome: the
	// command.failed data (with HeaderError) or {"status":"accepted"}.
	// JetStream answers the publish itself, so the NATS reply subject
	// cannot carry it.
	HeaderReplyTo = "Wagate-Reply-To"
	// InboxPrefix starts the subjects HeaderReplyTo may name.
	InboxPrefix = "_INBOX."
	// HeaderDeadline carries, on a request (wa.rpc.…), the time (RFC 3339)
	// after which its caller no longer waits for the answer: the worker
	// bounds the work by it and skips a request it reaches too late.
	HeaderDeadline = "Wagate-Deadline"

	// HeaderEventID, HeaderEventType, HeaderChannel and HeaderEventSeq
	// describe the event a webhook delivery message (wa.whk.<endpoint>)
	// carries, so the delivery side need not decode its body.
	HeaderEventID   = "Wagate-Event-Id"
	HeaderEventType = "Wagate-Event-Type"
	HeaderChannel   = "Wagate-Channel"
	// HeaderEventSeq is the event's sequence in WA_EVT.
	HeaderEventSeq = "Wagate-Event-Seq"
)

// ErrBadSubject is returned by the parsers for a subject of the wrong shape.
var ErrBadSubject = errors.New("names: malformed subject")

// NATS builds subjects and stream names for one fleet.
type NATS struct {
	prefix string // "" or "p."
	stream string // "" or "p_"
}

// NewNATS returns the names of the fleet isolated by prefix (may be empty).
func NewNATS(prefix string) NATS {
	if prefix == "" {
		return NATS{}
	}
	return NATS{prefix: prefix + ".", stream: prefix + "_"}
}

// Prefix returns the fleet prefix NewNATS was given ("" when none), for
// handing it to another process as WAGATE_NATS_PREFIX.
func (n NATS) Prefix() string { return strings.TrimSuffix(n.prefix, ".") }

// CmdStream is the work-queue stream of commands.
func (n NATS) CmdStream() string { return n.stream + "WA_CMD" }

// EvtStream is the stream of events.
func (n NATS) EvtStream() string { return n.stream + "WA_EVT" }

// WebhookStream is the work-queue stream of webhook deliveries.
func (n NATS) WebhookStream() string { return n.stream + "WA_WEBHOOK" }

// Cmd is the subject a command for channel is published on.
func (n NATS) Cmd(channel, verb string) string {
	return n.prefix + "wa.cmd." + channel + "." + verb
}

// CmdIn is the subject filter of every command as published.
func (n NATS) CmdIn() string { return n.prefix + "wa.cmd.*.*" }

// CmdStored is the subject of a command as stored, after the transform.
func (n NATS) CmdStored(shard int, channel, verb string) string {
	return n.prefix + "wa.cmdp." + strconv.Itoa(shard) + "." + channel + "." + verb
}

// CmdTransformDest is the destination of the WA_CMD subject transform for
// shards partitions: it hashes the channel token exactly like shard.Of.
func (n NATS) CmdTransformDest(shards int) string {
	return fmt.Sprintf("%swa.cmdp.{{partition(%d,1)}}.{{wildcard(1)}}.{{wildcard(2)}}", n.prefix, shards)
}

// CmdShardFilter is the filter of the consumer of one shard.
func (n NATS) CmdShardFilter(shard int) string {
	return n.prefix + "wa.cmdp." + strconv.Itoa(shard) + ".>"
}

// CmdConsumer is the durable consumer name of one shard.
func (n NATS) CmdConsumer(shard int) string { return "cmd-" + strconv.Itoa(shard) }

// ParseCmdStored splits a stored command subject.
func (n NATS) ParseCmdStored(subject string) (shard int, channel, verb string, err error) {
	rest, ok := strings.CutPrefix(subject, n.prefix+"wa.cmdp.")
	if !ok {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	shard, err = strconv.Atoi(parts[0])
	if err != nil {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	return shard, parts[1], parts[2], nil
}

// Evt is the subject of an event of type typ (e.g. "message.received").
func (n NATS) Evt(channel, typ string) string {
	return n.prefix + "wa.evt." + channel + "." + typ
}

// EvtAll is the filter of every event.
func (n NATS) EvtAll() string { return n.prefix + "wa.evt.>" }

// EvtChannel is the filter of every event of one channel.
func (n NATS) EvtChannel(channel string) string { return n.prefix + "wa.evt." + channel + ".>" }

// ParseEvt splits an event subject into channel and event type.
func (n NATS) ParseEvt(subject string) (channel, typ string, err error) {
	rest, ok := strings.CutPrefix(subject, n.prefix+"wa.evt.")
	if !ok {
		return "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	channel, typ, ok = strings.Cut(rest, ".")
	if !ok || channel == "" || typ == "" {
		return "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	return channel, typ, nil
}

// Webhook is the subject of deliveries to one endpoint.
func (n NATS) Webhook(endpoint string) string { return n.prefix + "wa.whk." + endpoint }

// WebhookAll is the filter of every webhook delivery.
func (n NATS) WebhookAll() string { return n.prefix + "wa.whk.>" }

// WebhookDeliveryID is the Nats-Msg-Id of the delivery of event to
// endpoint: WA_WEBHOOK stores it once however often the event is fanned out.
func (n NATS) WebhookDeliveryID(eventID, endpointID string) string {
	return eventID + ":" + endpointID
}

// WebhooksChanged is the core NATS subject (not stored in a stream) on
// which a change of webhook endpoints is announced, so dispatchers reload
// their endpoint cache at once instead of at the next refresh.
func (n NATS) WebhooksChanged() string { return n.prefix + "wa.ctl.webhooks" }

// ChannelsChanged is the core NATS subject (not stored) on which a change
// of a channel's row (settings, deletion) is announced with the channel id
// as payload, so the API's channel caches drop it at once and the worker
// running the channel reads its settings again.
func (n NATS) ChannelsChanged() string { return n.prefix + "wa.ctl.channels" }

// WebhookFanoutConsumer is the durable consumer of WA_EVT, shared by every
// dispatcher, that turns events into webhook deliveries.
func (n NATS) WebhookFanoutConsumer() string { return "webhook-fanout" }

// WebhookDeliverConsumer is the durable consumer of WA_WEBHOOK, shared by
// every dispatcher, that delivers to endpoints.
func (n NATS) WebhookDeliverConsumer() string { return "webhook-deliver" }

// ParseWebhook returns the endpoint of a delivery subject.
func (n NATS) ParseWebhook(subject string) (endpoint string, err error) {
	rest, ok := strings.CutPrefix(subject, n.prefix+"wa.whk.")
	if !ok || rest == "" || strings.Contains(rest, ".") {
		return "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	return rest, nil
}

// RPC is the core NATS subject of a request to the owner of a channel's
// shard: wa.rpc.<shard>.<channel>.<method>. method may hold dots
// ("group.create"); the shard must be shard.Of(channel, S).
func (n NATS) RPC(shard int, channel, method string) string {
	return n.prefix + "wa.rpc." + strconv.Itoa(shard) + "." + channel + "." + method
}

// RPCShardFilter is the subscription of the owner of one shard to its
// requests.
func (n NATS) RPCShardFilter(shard int) string {
	return n.prefix + "wa.rpc." + strconv.Itoa(shard) + ".>"
}

// RPCQueue is the queue group of the request subscriptions: should two
// workers briefly both believe they own a shard, a request still runs once.
func (n NATS) RPCQueue() string { return "wagate-rpc" }

// ParseRPC splits a request subject into shard, channel and method.
func (n NATS) ParseRPC(subject string) (shard int, channel, method string, err error) {
	rest, ok := strings.CutPrefix(subject, n.prefix+"wa.rpc.")
	if !ok {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" || strings.HasSuffix(parts[2], ".") || strings.Contains(parts[2], "..") {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	shard, err = strconv.Atoi(parts[0])
	if err != nil || shard < 0 {
		return 0, "", "", fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	return shard, parts[1], parts[2], nil
}

// ValidToken reports whether s can be one NATS subject token (a channel id
// or a verb): non-empty, no dots, wildcards or whitespace.
func ValidToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
