package chats

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/store"
)

// Forever is the muted_until of a chat muted until unmuted.
var Forever = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Chat is one conversation of a channel.
type Chat struct {
	// Chat is the conversation's key: the phone-number JID when known,
	// else the LID; a group's JID.
	Chat    string `json:"chat"`
	ChatLID string `json:"chat_lid,omitempty"`
	// Name is the contact's push name or the group's name, when known.
	Name        string         `json:"name"`
	IsGroup     bool           `json:"is_group"`
	LastMessage *store.Message `json:"last_message"`
	LastAt      time.Time      `json:"last_at"`
	UnreadCount int            `json:"unread_count"`
	Archived    bool           `json:"archived"`
	Pinned      bool           `json:"pinned"`
	MutedUntil  *time.Time     `json:"muted_until"`
}

// Change is a change of a chat's settings, as a driver reports it (the
// data of its chat.updated session events) or as a request made it. Nil
// members did not change.
type Change struct {
	Chat    string `json:"chat"`
	ChatLID string `json:"chat_lid,omitempty"`
	// Name is the chat's name when the change tells it (a history sync).
	Name     string `json:"name,omitempty"`
	Archived *bool  `json:"archived,omitempty"`
	Pinned   *bool  `json:"pinned,omitempty"`
	// Muted and MutedUntil: muted until MutedUntil (Forever, or nil with
	// Muted true: until unmuted), or unmuted.
	Muted      *bool      `json:"muted,omitempty"`
	MutedUntil *time.Time `json:"muted_until,omitempty"`
	Read       *bool      `json:"read,omitempty"`
	// UnreadCount, when set, is the chat's unread count as WhatsApp
	// counts it (a history sync).
	UnreadCount *int      `json:"unread_count,omitempty"`
	Timestamp   time.Time `json:"timestamp"`
	// FullSync: the state WhatsApp sends after pairing, not a change;
	// recorded without an event.
	FullSync bool `json:"full_sync,omitempty"`
}

// Updated is the data of chat.updated: the chat after a change, and which
// settings changed.
type Updated struct {
	Chat        string     `json:"chat"`
	ChatLID     string     `json:"chat_lid,omitempty"`
	Archived    bool       `json:"archived"`
	Pinned      bool       `json:"pinned"`
	MutedUntil  *time.Time `json:"muted_until"`
	UnreadCount int        `json:"unread_count"`
	// Changed lists what changed: archived, pinned, muted_until, read.
	Changed   []string  `json:"changed"`
	Timestamp time.Time `json:"timestamp"`
}

// EventUpdated is the event type of Updated, and of the session events
// that carry a Change.
const EventUpdated = event.ChatUpdated

// MessageRef names a message of a chat to WhatsApp.
type MessageRef struct {
	// ID is WhatsApp's id of the message.
	ID     string    `json:"id"`
	FromMe bool      `json:"from_me"`
	Sender string    `json:"sender,omitempty"`
	At     time.Time `json:"at"`
}

// Update is the request body of MethodUpdate and what a driver's
// UpdateChat gets: the settings to change (nil: unchanged) of Chat.
type Update struct {
	Chat     string `json:"chat"`
	Archived *bool  `json:"archived,omitempty"`
	Pinned   *bool  `json:"pinned,omitempty"`
	// Mute: mute until MutedUntil (Forever: until unmuted), or unmute.
	Mute       *bool      `json:"mute,omitempty"`
	MutedUntil *time.Time `json:"muted_until,omitempty"`
	Read       *bool      `json:"read,omitempty"`
	// Last is the chat's last message, which WhatsApp's archive and
	// mark-read patches name; Unread are the received messages a read
	// marks read (read receipts).
	Last   *MessageRef  `json:"last,omitempty"`
	Unread []MessageRef `json:"unread,omitempty"`
}

// Change is the change an Update made. Archiving unpins, as WhatsApp's
// archive patch does.
func (u Update) Change(at time.Time) Change {
	c := Change{Chat: u.Chat, Archived: u.Archived, Pinned: u.Pinned, Read: u.Read, Timestamp: at}
	if u.Archived != nil && *u.Archived && c.Pinned == nil {
		unpinned := false
		c.Pinned = &unpinned
	}
	if u.Mute != nil {
		c.Muted, c.MutedUntil = u.Mute, u.MutedUntil
	}
	return c
}

// Updater is the capability of a session that changes a chat's settings
// through WhatsApp's app state. It returns when WhatsApp accepted the
// change; errors wrap the sentinels of package session.
type Updater interface {
	UpdateChat(ctx context.Context, u Update) error
}

// MethodUpdate is the request method of PATCH …/chats/{chat}.
const MethodUpdate = "chat.update"

// Methods are the request methods of the package, run by the worker.
var Methods = map[string]groups.Handler{
	MethodUpdate: func(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
		up, ok := sess.(Updater)
		if !ok {
			return nil, groups.Errorf(groups.CodeNotSupported, "the channel's driver cannot change chats")
		}
		var u Update
		if err := groups.DecodeParams(raw, &u); err != nil {
			return nil, err
		}
		if u.Chat == "" {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "chat is required")
		}
		if err := up.UpdateChat(ctx, u); err != nil {
			return nil, err
		}
		return Applied{Change: u.Change(time.Now().UTC())}, nil
	},
}

// Applied is the answer of MethodUpdate: the change the session made,
// which the worker records (Record) before it answers.
type Applied struct {
	Change Change `json:"change"`
}

// CodeChatNotFound: no such chat in the channel (HTTP 404).
const CodeChatNotFound = "chat_not_found"

// Status is the HTTP status of a code of this package (0: groups.Status).
func Status(code string) int {
	if code == CodeChatNotFound {
		return http.StatusNotFound
	}
	return 0
}
