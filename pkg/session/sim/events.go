package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
)

// Data of the session.Inbound events the simulator emits (the "data" of
// the wagate event the worker publishes).
type (
	// MessageData is the data of message.received.
	MessageData struct {
		ID     string `json:"id"`
		Chat   string `json:"chat"`
		From   string `json:"from"`
		FromMe bool   `json:"from_me"`
		// ChatLID, FromLID and AddressingMode: as the whatsmeow driver
		// reports a LID-addressed message (see lid.go).
		ChatLID        string    `json:"chat_lid,omitempty"`
		FromLID        string    `json:"from_lid,omitempty"`
		AddressingMode string    `json:"addressing_mode,omitempty"`
		Type           string    `json:"type"`
		Text           string    `json:"text"`
		PushName       string    `json:"push_name"`
		Timestamp      time.Time `json:"timestamp"`
		// Media describes the file of an image, audio, document, video or
		// sticker (as the whatsmeow driver does); it is fetched through
		// session.MediaDownloader.
		Media *MediaData `json:"media,omitempty"`
	}
	// ReceiptData is the data of message.delivered, message.read and
	// message.played.
	ReceiptData struct {
		IDs       []string  `json:"ids"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from,omitempty"`
		Status    string    `json:"status"`
		Timestamp time.Time `json:"timestamp"`
	}
	// ReactionData is the data of message.reaction; an empty Emoji removes
	// the reaction.
	ReactionData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		Emoji     string    `json:"emoji"`
		Timestamp time.Time `json:"timestamp"`
	}
	// PollVoteData is the data of message.poll_vote: From's choice in
	// the poll MessageID; an empty Selected withdraws the vote.
	PollVoteData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		Selected  []string  `json:"selected"`
		Timestamp time.Time `json:"timestamp"`
	}
	// ChatPresenceData is the data of chat.presence.
	ChatPresenceData struct {
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		State     string    `json:"state"`
		Timestamp time.Time `json:"timestamp"`
	}
	// PresenceData is the data of presence.updated.
	PresenceData struct {
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		State     string    `json:"state"`
		Timestamp time.Time `json:"timestamp"`
	}
	// CallData is the data of call.received.
	CallData struct {
		ID        string    `json:"id"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		Video     bool      `json:"video"`
		Timestamp time.Time `json:"timestamp"`
	}
	// GroupData is the data of group.created, group.member_added,
	// group.member_removed and group.updated.
	GroupData struct {
		Group        string    `json:"group"`
		Name         string    `json:"name,omitempty"`
		Topic        string    `json:"topic,omitempty"`
		Participants []string  `json:"participants,omitempty"`
		By           string    `json:"by,omitempty"`
		Timestamp    time.Time `json:"timestamp"`
	}
)

// inbound wraps data into a session.Inbound of type typ.
func inbound(typ string, at time.Time, data any) session.Inbound {
	raw, _ := json.Marshal(data) // the data types above always encode
	return session.Inbound{Type: typ, Data: raw, At: at}
}

// receiptEvent reports status (delivered, read, played, server_error) of
// message id in chat (chatLID: its LID when the contact is addressed by
// LID).
func receiptEvent(id, chat, chatLID, from, status string, at time.Time) session.Inbound {
	typ := receiptTypes[status]
	if status == "server_error" {
		status = session.StatusFailed
	}
	ev := inbound(typ, at, ReceiptData{IDs: []string{id}, Chat: chat, ChatLID: chatLID, From: from, Status: status, Timestamp: at})
	ev.MessageIDs, ev.Status = []string{id}, status
	return ev
}

// Wagate event types of the receipts a phone sends.
var receiptTypes = map[string]string{
	"delivered": event.MessageDelivered,
	"read":      event.MessageRead,
	"played":    event.MessagePlayed,
	// WhatsApp's server-error receipt: it could not deliver the message.
	"server_error": event.MessageFailed,
}

// toJID accepts a JID or a phone number and returns a JID.
func toJID(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%w: a JID or phone number is required", session.ErrInvalid)
	}
	if strings.Contains(v, "@") {
		return v, nil
	}
	digits, err := validatePhone(v)
	if err != nil {
		return "", err
	}
	return digits + "@" + UserServer, nil
}

// notOnWhatsApp reports whether jid is a number the simulated WhatsApp
// does not know: one ending in 0000.
func notOnWhatsApp(jid string) bool {
	user, server, _ := strings.Cut(jid, "@")
	return server == UserServer && strings.HasSuffix(user, "0000")
}
