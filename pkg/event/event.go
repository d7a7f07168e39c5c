// Package event defines the envelope every wagate event travels in and the
// payloads of the connection events. Events are published to WA_EVT on
// wa.evt.<channel>.<type> with the event id as Nats-Msg-Id, so a republished
// event is stored once. The JSON Schemas under schemas/events are the
// contract; tests validate every published event against them.
package event

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/wagate/wagate/pkg/ids"
)

// Event types.
const (
	ConnectionStatusChanged = "connection.status_changed"
	ConnectionQR            = "connection.qr"
	ConnectionPairingCode   = "connection.pairing_code"
	MessageReceived         = "message.received"
	MessageSent             = "message.sent"
	MessageDelivered        = "message.delivered"
	MessageRead             = "message.read"
	MessagePlayed           = "message.played"
	MessageFailed           = "message.failed"
	MessageReaction         = "message.reaction"
	MessageEdited           = "message.edited"
	MessageDeleted          = "message.deleted"
	MessageUndecryptable    = "message.undecryptable"
	MessagePollVote         = "message.poll_vote"
	GroupCreated            = "group.created"
	GroupMemberAdded        = "group.member_added"
	GroupMemberRemoved      = "group.member_removed"
	GroupUpdated            = "group.updated"
	CallReceived            = "call.received"
	CallRejected            = "call.rejected"
	PresenceUpdated         = "presence.updated"
	ChatUpdated             = "chat.updated"
	HistorySyncProgress     = "history.sync_progress"
	HistoryMessage          = "history.message"
	ChatPresence            = "chat.presence"
	ChannelHealth           = "channel.health"
	WebhookDisabled         = "webhook.disabled"
	CommandFailed           = "command.failed"
	// MessageMediaStored: the file of a media message is stored and can
	// be fetched (its media.url answers 200).
	MessageMediaStored = "message.media_stored"
	// MessageMediaFailed: the file of a received media message cannot be
	// fetched, for good (its media.status is failed or expired).
	MessageMediaFailed = "message.media_failed"
)

// Envelope wraps every event.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	ChannelID string          `json:"channel_id"`
	CreatedAt time.Time       `json:"created_at"`
	Epoch     int64           `json:"epoch"`
	Data      json.RawMessage `json:"data"`
}

// New builds an envelope with a fresh id around data.
func New(typ, channelID string, epoch int64, at time.Time, data any) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("event: encode %s: %w", typ, err)
	}
	return Envelope{ID: ids.New(ids.Event), Type: typ, ChannelID: channelID, CreatedAt: at.UTC(), Epoch: epoch, Data: raw}, nil
}

// StatusChanged is the data of connection.status_changed.
type StatusChanged struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	// Detail says more about the reason: the dial error (DNS, TLS,
	// connection refused, ...) while WhatsApp is unreachable.
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
	// ExpiresAt is set when the state ends by itself (a temporary ban).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// QR is the data of connection.qr.
type QR struct {
	Code           string    `json:"code"`
	ImagePNGBase64 string    `json:"image_png_base64"`
	ExpiresAt      time.Time `json:"expires_at"`
	Attempt        int       `json:"attempt"`
	MaxAttempts    int       `json:"max_attempts"`
}

// PairingCode is the data of connection.pairing_code.
type PairingCode struct {
	Code      string    `json:"code"`
	Phone     string    `json:"phone"`
	ExpiresAt time.Time `json:"expires_at"`
}
