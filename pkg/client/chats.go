package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Chat is a conversation of the channel, with its last message and
// WhatsApp's archive, pin and mute state.
type Chat struct {
	// Chat is the chat's key: the phone-number JID when known, else the
	// LID; a group's JID.
	Chat    string `json:"chat"`
	ChatLID string `json:"chat_lid,omitempty"`
	// Name is the contact's push name or the group's name, when known.
	Name    string `json:"name"`
	IsGroup bool   `json:"is_group"`
	// LastMessage is nil for a chat known only from WhatsApp's app state.
	LastMessage *Message  `json:"last_message"`
	LastAt      time.Time `json:"last_at"`
	UnreadCount int       `json:"unread_count"`
	Archived    bool      `json:"archived"`
	Pinned      bool      `json:"pinned"`
	// MutedUntil is nil when not muted; 9999-12-31T23:59:59Z until unmuted.
	MutedUntil *time.Time `json:"muted_until"`
}

// ChatList is one page of chats, the most recent first.
type ChatList struct {
	Data []Chat `json:"data"`
	// NextAfter is the cursor of the next page; nil on the last page.
	NextAfter *string `json:"next_after"`
}

// ListChatsParams filter and page the chat list.
type ListChatsParams struct {
	// Archived lists only archived chats (true) or only the others
	// (false); nil lists both.
	Archived *bool
	// After is the cursor: the previous page's NextAfter.
	After string
	// Limit is the page size (1 to 500; 0 for the server's 50).
	Limit int
}

// ChatUpdate archives, pins, mutes or reads a chat; nil fields stay as
// they are.
type ChatUpdate struct {
	Archived *bool
	Pinned   *bool
	// MutedUntil mutes until this time (in the future).
	MutedUntil time.Time
	// MuteForever mutes until unmuted.
	MuteForever bool
	// Unmute unmutes the chat (sends "muted_until": null).
	Unmute bool
	// Read marks the chat read (true; read receipts are sent) or unread.
	Read *bool
}

// MarshalJSON writes only what changes.
func (u ChatUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Archived != nil {
		m["archived"] = *u.Archived
	}
	if u.Pinned != nil {
		m["pinned"] = *u.Pinned
	}
	switch {
	case u.Unmute:
		m["muted_until"] = nil
	case u.MuteForever:
		m["muted_until"] = "forever"
	case !u.MutedUntil.IsZero():
		m["muted_until"] = u.MutedUntil.Format(time.RFC3339)
	}
	if u.Read != nil {
		m["read"] = *u.Read
	}
	return json.Marshal(m)
}

// ChatMessagesParams page a chat's messages.
type ChatMessagesParams struct {
	// Before is the cursor: the previous page's NextBefore.
	Before string
	// Limit is the page size (1 to 500; 0 for the server's 50).
	Limit int
}

// ListChats returns one page of the channel's chats; see ChatsAll for
// every page.
func (c *Client) ListChats(ctx context.Context, channelID string, p ListChatsParams) (*ChatList, error) {
	q := url.Values{}
	if p.Archived != nil {
		q.Set("archived", strconv.FormatBool(*p.Archived))
	}
	setStr(q, "after", p.After)
	setInt(q, "limit", p.Limit)
	var out ChatList
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", channelID, "/chats"), q)}, &out)
	return ret(&out, err)
}

// UpdateChat changes a chat through WhatsApp's app state (the channel must
// be active) and returns it after the change.
func (c *Client) UpdateChat(ctx context.Context, channelID, chat string, u ChatUpdate) (*Chat, error) {
	var out Chat
	_, err := c.do(ctx, request{method: http.MethodPatch, path: path("/v1/channels/", channelID, "/chats/", chat), body: u}, &out)
	return ret(&out, err)
}

// ListChatMessages returns one page of a chat's messages, newest first.
func (c *Client) ListChatMessages(ctx context.Context, channelID, chat string, p ChatMessagesParams) (*MessageList, error) {
	q := url.Values{}
	setStr(q, "before", p.Before)
	setInt(q, "limit", p.Limit)
	var out MessageList
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", channelID, "/chats/", chat, "/messages"), q)}, &out)
	return ret(&out, err)
}

// ChatsAll yields every chat matching p, the most recent first.
func (c *Client) ChatsAll(ctx context.Context, channelID string, p ListChatsParams) iter.Seq2[Chat, error] {
	first := p.After
	return pages(func(after string) ([]Chat, *string, error) {
		p.After = after
		if after == "" {
			p.After = first
		}
		l, err := c.ListChats(ctx, channelID, p)
		if err != nil {
			return nil, nil, err
		}
		return l.Data, l.NextAfter, nil
	})
}
