package whatsmeow

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waHistorySync"
	"go.mau.fi/whatsmeow/proto/waWeb"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/history"
	"github.com/wagate/wagate/pkg/session"
)

// This file turns the history WhatsApp sends after pairing
// (events.HistorySync) into the session events of package history: one
// per conversation, each emitted once the previous one was acknowledged,
// then one for the chunk. whatsmeow hands over a whole decoded chunk; what
// this driver adds to it in memory is one translated conversation.

// ErrHistoryStopped: the history of a chunk was not all emitted (the
// connection closed or the worker could not record a conversation).
var ErrHistoryStopped = errors.New("whatsmeow: history sync stopped")

// EmitHistory translates a history chunk conversation by conversation:
// emit gets each event and returns once it was recorded (an error stops
// the chunk). own is the account's JID (messages it sent name it as
// sender), pn maps LIDs to phone numbers (nil: only what the chunk
// carries). The simulator emits its history with it too, so both drivers
// report a history the same way.
func EmitHistory(data *waHistorySync.HistorySync, own types.JID, now time.Time, pn func(types.JID) types.JID, emit func(session.Inbound) error) error {
	var resolve pnResolver
	if pn != nil {
		resolve = pn
	}
	n := 0
	for _, conv := range data.GetConversations() {
		c, ok := historyConversation(conv, own, now, resolve)
		if !ok {
			continue
		}
		if err := emit(inbound(history.SessionConversation, now, c)); err != nil {
			return errors.Join(ErrHistoryStopped, err)
		}
		n++
	}
	ch := history.Chunk{SyncType: data.GetSyncType().String(), Chunk: int(data.GetChunkOrder()), Conversations: n}
	if data.Progress != nil {
		p := int(data.GetProgress())
		ch.Progress = &p
	}
	if err := emit(inbound(history.SessionChunk, now, ch)); err != nil {
		return errors.Join(ErrHistoryStopped, err)
	}
	return nil
}

// historyConversation translates one conversation; false for one without
// a chat this gateway reports (status broadcasts, newsletters).
func historyConversation(conv *waHistorySync.Conversation, own types.JID, now time.Time, pn pnResolver) (history.Conversation, bool) {
	chat, err := types.ParseJID(conv.GetID())
	if err != nil || chat.IsEmpty() || chat.Server == types.BroadcastServer || chat.Server == types.NewsletterServer {
		return history.Conversation{}, false
	}
	var alt types.JID
	switch chat.Server {
	case types.HiddenUserServer:
		alt, _ = types.ParseJID(conv.GetPnJID())
	case types.DefaultUserServer:
		alt, _ = types.ParseJID(conv.GetLidJID())
	}
	c := history.Conversation{Name: conv.GetName(), UnreadCount: int(conv.GetUnreadCount()), Archived: conv.GetArchived(), Pinned: conv.GetPinned() > 0}
	c.Chat, c.ChatLID = pn.address(chat, alt)
	if c.Name == "" {
		c.Name = conv.GetDisplayName()
	}
	if conv.GetMarkedAsUnread() && c.UnreadCount == 0 {
		c.UnreadCount = 1
	}
	if end := conv.GetMuteEndTime(); end > 0 {
		t := chats.Forever
		if end < uint64(chats.Forever.Unix()) {
			t = time.Unix(int64(end), 0).UTC()
		}
		c.MutedUntil = &t
	}
	for _, hm := range conv.GetMessages() {
		m, ok := historyMessage(chat, alt, own, hm.GetMessage(), now, pn)
		if !ok {
			c.Skipped++
			continue
		}
		c.Messages = append(c.Messages, m)
	}
	slices.SortStableFunc(c.Messages, func(a, b history.Message) int { return a.Timestamp.Compare(b.Timestamp) })
	return c, true
}

// historyMessage translates one message of a conversation as the
// message.received it would have been; false for what is not a message
// (protocol messages, reactions, edits, undecryptable stubs).
func historyMessage(chat, chatAlt, own types.JID, web *waWeb.WebMessageInfo, now time.Time, pn pnResolver) (history.Message, bool) {
	evt, err := webMessage(chat, own, web)
	if err != nil || evt.Message == nil {
		return history.Message{}, false
	}
	if chat.Server != types.GroupServer {
		if evt.Info.IsFromMe {
			evt.Info.RecipientAlt = chatAlt
		} else {
			evt.Info.SenderAlt = chatAlt
		}
	}
	evs := messageEvents(evt, now, pn)
	if len(evs) != 1 {
		return history.Message{}, false
	}
	in, ok := evs[0].(session.Inbound)
	if !ok || in.Type != event.MessageReceived {
		return history.Message{}, false
	}
	d := baseMessage(&evt.Info, now, pn)
	return history.Message{ID: d.ID, FromMe: d.FromMe, From: d.From, FromLID: d.FromLID, Type: typeOf(in.Data), Timestamp: d.Timestamp, Data: in.Data}, true
}

// webMessage is whatsmeow's Client.ParseWebMessage (client.go) without a
// client: the account's own JID is given instead of read from the store.
func webMessage(chat, own types.JID, web *waWeb.WebMessageInfo) (*events.Message, error) {
	if web == nil {
		return nil, errors.New("no message")
	}
	info := types.MessageInfo{
		MessageSource: types.MessageSource{Chat: chat, IsFromMe: web.GetKey().GetFromMe(), IsGroup: chat.Server == types.GroupServer},
		ID:            web.GetKey().GetID(),
		PushName:      web.GetPushName(),
		Timestamp:     time.Unix(int64(web.GetMessageTimestamp()), 0),
	}
	var err error
	switch {
	case info.IsFromMe:
		info.Sender = own.ToNonAD()
	case chat.Server == types.DefaultUserServer || chat.Server == types.HiddenUserServer:
		info.Sender = chat
	case web.GetParticipant() != "":
		info.Sender, err = types.ParseJID(web.GetParticipant())
	case web.GetKey().GetParticipant() != "":
		info.Sender, err = types.ParseJID(web.GetKey().GetParticipant())
	default:
		return nil, errors.New("no sender")
	}
	if err != nil || info.ID == "" {
		return nil, errors.New("unreadable key")
	}
	evt := &events.Message{RawMessage: web.GetMessage(), SourceWebMsg: web, Info: info}
	evt.UnwrapRaw()
	if evt.Message.GetProtocolMessage().GetType() == waE2E.ProtocolMessage_MESSAGE_EDIT {
		evt.Info.ID = evt.Message.GetProtocolMessage().GetKey().GetID()
		evt.Message = evt.Message.GetProtocolMessage().GetEditedMessage()
	}
	return evt, nil
}

// historyQueue holds the chunks of a connection not yet emitted; its
// goroutine emits them one at a time.
type historyQueue struct {
	once   sync.Once
	chunks chan *waHistorySync.HistorySync
}

// historyBacklog bounds the chunks waiting: beyond it whatsmeow's event
// handler waits, as for any slow handler, instead of memory growing.
const historyBacklog = 2

// onHistory queues a chunk for the connection's history goroutine.
func (c *conn) onHistory(data *waHistorySync.HistorySync) {
	c.history.once.Do(func() {
		c.history.chunks = make(chan *waHistorySync.HistorySync, historyBacklog)
		go c.emitHistory()
	})
	select {
	case c.history.chunks <- data:
	case <-c.ctx.Done():
	}
}

func (c *conn) emitHistory() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case data := <-c.history.chunks:
			cli := c.cli.Load()
			if cli == nil || cli.Store.ID == nil {
				continue
			}
			err := EmitHistory(data, *cli.Store.ID, c.s.d.cfg.Now(), c.storePN, c.emitRecorded)
			if err != nil && c.ctx.Err() == nil {
				c.s.log.Warn("history chunk not all imported", "err", err)
			}
		}
	}
}

// emitRecorded emits an event and waits until the worker recorded it.
func (c *conn) emitRecorded(in session.Inbound) error {
	done := make(chan error, 1)
	in.Ack = func(err error) {
		select {
		case done <- err:
		default:
		}
	}
	if !c.emit(in) {
		return context.Canceled
	}
	select {
	case err := <-done:
		return err
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// typeOf reads the type of message.received data.
func typeOf(data []byte) string {
	var d struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &d)
	return d.Type
}
