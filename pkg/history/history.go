package history

import (
	"encoding/json"
	"time"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
)

// Types of the session events a driver emits for a history sync; the
// worker consumes them and never publishes them as they are.
const (
	SessionConversation = "history.conversation"
	SessionChunk        = "history.chunk"
)

// Published event types.
const (
	EventMessage  = event.HistoryMessage
	EventProgress = event.HistorySyncProgress
)

// DefaultDays is the default of settings.history_days.
const DefaultDays = 30

// SettingDays is the channel setting of the window, in days.
const SettingDays = "history_days"

// Conversation is one conversation of a history chunk.
type Conversation struct {
	Chat    string `json:"chat"`
	ChatLID string `json:"chat_lid,omitempty"`
	Name    string `json:"name,omitempty"`
	// UnreadCount, Archived, Pinned and MutedUntil are the chat's state as
	// WhatsApp sends it (MutedUntil nil: not muted; chats.Forever: until
	// unmuted).
	UnreadCount int        `json:"unread_count"`
	Archived    bool       `json:"archived"`
	Pinned      bool       `json:"pinned"`
	MutedUntil  *time.Time `json:"muted_until,omitempty"`
	// Messages are the data of the message.received each message would
	// have been, oldest first.
	Messages []Message `json:"messages"`
	// Skipped counts the conversation's messages the driver could not
	// record (protocol messages, reactions, undecryptable content).
	Skipped int `json:"skipped,omitempty"`
}

// Message is one message of a conversation: the fields the log needs and
// Data, the message.received data the driver would have reported.
type Message struct {
	ID        string          `json:"id"`
	FromMe    bool            `json:"from_me"`
	From      string          `json:"from"`
	FromLID   string          `json:"from_lid,omitempty"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Chunk ends a history chunk.
type Chunk struct {
	SyncType      string `json:"sync_type"`
	Chunk         int    `json:"chunk"`
	Progress      *int   `json:"progress,omitempty"`
	Conversations int    `json:"conversations"`
}

// Progress is the data of history.sync_progress.
type Progress struct {
	SyncType      string    `json:"sync_type"`
	Chunk         int       `json:"chunk"`
	Progress      *int      `json:"progress,omitempty"`
	Conversations int       `json:"conversations"`
	Messages      int       `json:"messages"`
	Skipped       int       `json:"skipped"`
	Timestamp     time.Time `json:"timestamp"`
}

// Days is the window of a channel's settings: settings.history_days, or
// DefaultDays.
func Days(settings json.RawMessage) int {
	var s struct {
		Days *int `json:"history_days"`
	}
	if json.Unmarshal(settings, &s) != nil || s.Days == nil || *s.Days < 0 {
		return DefaultDays
	}
	return *s.Days
}

// change is the chat state a conversation carries, recorded as a full
// sync (no chat.updated).
func (c Conversation) change(at time.Time) chats.Change {
	muted := c.MutedUntil != nil
	unread := c.UnreadCount
	return chats.Change{Chat: c.Chat, ChatLID: c.ChatLID, Name: c.Name, Archived: &c.Archived, Pinned: &c.Pinned,
		Muted: &muted, MutedUntil: c.MutedUntil, UnreadCount: &unread, Timestamp: at, FullSync: true}
}
