// Package chatsapi serves the chat routes of the HTTP API (package
// chats): GET /v1/channels/{id}/chats, GET …/chats/{chat}/messages and
// PATCH …/chats/{chat}. The lists are read from the store whatever the
// channel's state; a change goes to the worker running the channel.
package chatsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/messaging"
	"github.com/wagate/wagate/pkg/ownerclient"
	"github.com/wagate/wagate/pkg/store"
)

// Config configures the routes.
type Config = ownerclient.Config

// Handlers serves the routes.
type Handlers struct {
	*ownerclient.Client
}

// NewHandlers returns the handlers.
func NewHandlers(cfg Config) *Handlers {
	return &Handlers{Client: ownerclient.New(cfg)}
}

// Mount registers the routes behind auth.
func (h *Handlers) Mount(r *gin.Engine, auth gin.HandlerFunc) {
	g := h.ChannelRoutes(r, "/chats", auth)
	g.GET("", h.list)
	g.GET("/:chat/messages", h.messages)
	h.Routes(r, "/chats", auth, "changing a chat").PATCH("/:chat", h.update)
}

// List is the answer of GET …/chats.
type List struct {
	Data []chats.Chat `json:"data"`
	// NextAfter is the cursor of the next page; null on the last.
	NextAfter *string `json:"next_after"`
}

func limitOf(c *gin.Context) (int, *httpapi.Error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, httpapi.Validation("limit", "must be from 1 to 500")
	}
	return n, nil
}

func (h *Handlers) list(c *gin.Context) {
	var f chats.Filter
	var verr *httpapi.Error
	if f.Limit, verr = limitOf(c); verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	if v := c.Query("archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpapi.Abort(c, httpapi.Validation("archived", "must be true or false"))
			return
		}
		f.Archived = &b
	}
	f.After = c.Query("after")
	p, err := chats.List(c.Request.Context(), h.Store(), httpapi.ChannelOf(c).ID, f)
	if errors.Is(err, chats.ErrBadCursor) {
		httpapi.Abort(c, httpapi.Validation("after", "is not a cursor of this list (use next_after of the previous page)"))
		return
	}
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	out := List{Data: p.Chats}
	if out.Data == nil {
		out.Data = []chats.Chat{}
	}
	if p.Next != "" {
		out.NextAfter = &p.Next
	}
	c.JSON(http.StatusOK, out)
}

// chatOf reads the chat the path names (by phone number, JID or LID), or
// answers 400 or 404 and returns false.
func (h *Handlers) chatOf(c *gin.Context) (chats.Chat, bool) {
	v := c.Param("chat")
	jid, ok := messaging.NormalizeRecipient(v)
	if !ok {
		httpapi.Abort(c, httpapi.Validation("chat", "%q is not a phone number in international form or a JID (…@s.whatsapp.net, …@lid, …@g.us)", v))
		return chats.Chat{}, false
	}
	ch := httpapi.ChannelOf(c)
	chat, err := chats.Get(c.Request.Context(), h.Store(), ch.ID, jid)
	if errors.Is(err, chats.ErrNotFound) {
		httpapi.Abort(c, httpapi.Errorf(http.StatusNotFound, chats.CodeChatNotFound, "channel %s has no chat with %s", ch.ID, jid))
		return chats.Chat{}, false
	}
	if err != nil {
		httpapi.Abort(c, err)
		return chats.Chat{}, false
	}
	return chat, true
}

// MessageList is the answer of GET …/chats/{chat}/messages.
type MessageList struct {
	Data []*store.Message `json:"data"`
	// NextBefore is the cursor of the next page; null on the last.
	NextBefore *string `json:"next_before"`
}

func (h *Handlers) messages(c *gin.Context) {
	limit, verr := limitOf(c)
	if verr != nil {
		httpapi.Abort(c, verr)
		return
	}
	chat, ok := h.chatOf(c)
	if !ok {
		return
	}
	f := store.MessageFilter{Chat: chat.Chat, Before: c.Query("before"), Limit: limit}
	if f.Limit == 0 {
		f.Limit = 50
	}
	msgs, err := h.Store().ListMessages(c.Request.Context(), httpapi.ChannelOf(c).ID, f)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	out := MessageList{Data: msgs}
	if len(msgs) == f.Limit {
		out.NextBefore = &msgs[len(msgs)-1].ID
	}
	if out.Data == nil {
		out.Data = []*store.Message{}
	}
	c.JSON(http.StatusOK, out)
}

// UpdateRequest is the body of PATCH …/chats/{chat}; members left out do
// not change.
type UpdateRequest struct {
	Archived *bool `json:"archived"`
	Pinned   *bool `json:"pinned"`
	// MutedUntil: an RFC 3339 time in the future, "forever", or null to
	// unmute.
	MutedUntil json.RawMessage `json:"muted_until"`
	Read       *bool           `json:"read"`
}

func (h *Handlers) update(c *gin.Context) {
	var r UpdateRequest
	if err := httpapi.Bind(c, &r, 0, false); err != nil {
		httpapi.Abort(c, err)
		return
	}
	u := chats.Update{Archived: r.Archived, Pinned: r.Pinned, Read: r.Read}
	if len(r.MutedUntil) > 0 {
		mute, until, verr := mutedUntil(r.MutedUntil)
		if verr != nil {
			httpapi.Abort(c, verr)
			return
		}
		u.Mute, u.MutedUntil = &mute, until
	}
	if u.Archived == nil && u.Pinned == nil && u.Mute == nil && u.Read == nil {
		httpapi.Abort(c, httpapi.Validation("body", "names nothing to change: give archived, pinned, muted_until or read"))
		return
	}
	chat, ok := h.chatOf(c)
	if !ok {
		return
	}
	u.Chat = chat.Chat
	var err error
	if u.Last, u.Unread, err = chats.Refs(c.Request.Context(), h.Store(), httpapi.ChannelOf(c).ID, chat); err != nil {
		httpapi.Abort(c, err)
		return
	}
	if u.Read == nil || !*u.Read {
		u.Unread = nil
	}
	var res chats.Applied
	if !h.Ask(c, chats.MethodUpdate, u, &res, chats.Status) {
		return
	}
	after, err := chats.Get(c.Request.Context(), h.Store(), httpapi.ChannelOf(c).ID, chat.Chat)
	if err != nil {
		httpapi.Abort(c, err)
		return
	}
	c.JSON(http.StatusOK, after)
}

// mutedUntil reads muted_until: null unmutes, "forever" mutes until
// unmuted, a time in the future mutes until then.
func mutedUntil(raw json.RawMessage) (bool, *time.Time, *httpapi.Error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return false, nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false, nil, httpapi.Validation("muted_until", "must be an RFC 3339 time, \"forever\" or null")
	}
	if s == "forever" {
		t := chats.Forever
		return true, &t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !t.After(time.Now()) {
		return false, nil, httpapi.Validation("muted_until", "must be an RFC 3339 time in the future, \"forever\" or null")
	}
	t = t.UTC()
	return true, &t, nil
}
