// Package presence holds what a channel shows of itself and learns of its
// contacts' presence: the channel setting (settings.presence) and the
// rules the worker follows after every connection.
//
// What WhatsApp does: a linked device is "online" only after it sends the
// presence available; only then does the server send it the typing
// indicators of its chats (chat.presence), and contacts' online status and
// last seen (presence.updated) arrive only for contacts the connection
// subscribed to, one by one, for as long as it lives. While any linked
// device is online, WhatsApp does not push notifications to the phone.
//
// What the worker does (pkg/worker/presence.go): after each connection,
// with settings.presence.online (default true, as WAHA and wuzapi do: a
// gateway serves software that wants the typing and online events, not a
// person waiting for notifications), it sends available and subscribes to
// the direct chats with traffic in the last RecentWindow (at most
// MaxSubscriptions, newest first), and to every further direct chat as a
// message comes from it or goes to it. With online false it sends
// unavailable once instead, which gives WhatsApp the account's push name
// (contacts see "-" otherwise) and keeps the phone's notifications; no
// presence or typing events arrive then.
package presence

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Limits of the subscriptions made after a connection.
const (
	// RecentWindow is how far back traffic makes a chat "recent".
	RecentWindow = 24 * time.Hour
	// MaxSubscriptions bounds the subscriptions one connection makes.
	MaxSubscriptions = 100
)

// Settings are the presence settings of a channel (settings.presence).
type Settings struct {
	// Online: show the account online after connecting and subscribe to
	// recent chats (nil: the default, true).
	Online *bool `json:"online,omitempty"`
}

// IsOnline reports whether the channel shows itself online.
func (s Settings) IsOnline() bool { return s.Online == nil || *s.Online }

// SettingsOf reads the presence settings from a channel's settings JSON;
// unreadable settings mean the defaults (they are validated when stored).
func SettingsOf(raw json.RawMessage) Settings {
	var wrap struct {
		Presence Settings `json:"presence"`
	}
	_ = json.Unmarshal(raw, &wrap)
	return wrap.Presence
}

// Parse validates the value of settings.presence strictly and returns it
// normalized.
func Parse(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var s Settings
	if err := dec.Decode(&s); err != nil {
		return nil, errors.New(`must be an object {"online": true|false}`)
	}
	b, _ := json.Marshal(s)
	return b, nil
}

// Subscribable reports whether chat is a direct chat whose contact's
// presence can be subscribed to (a phone-number JID or a LID; not a
// group, broadcast or newsletter).
func Subscribable(chat string) bool {
	return strings.HasSuffix(chat, "@s.whatsapp.net") || strings.HasSuffix(chat, "@lid")
}
