package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
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
	ev := inbound(typ, at, session.ReceiptData{IDs: []string{id}, Chat: chat, ChatLID: chatLID, From: from, Status: status, Timestamp: at})
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
