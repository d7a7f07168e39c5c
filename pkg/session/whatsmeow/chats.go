package whatsmeow

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the chat capability (package chats): a chat's archive,
// pin, mute and read state is the account's app state. UpdateChat sends
// the patches appstate.BuildArchive, BuildPin, BuildMuteAbs and
// BuildMarkChatAsRead build, and read receipts for the unread messages;
// whatsmeow fetches the app state after sending and reports the change
// back as events.Archive, Pin, Mute and MarkChatAsRead, which translate
// into chat.updated like a change made on the phone.

var _ chats.Updater = (*Session)(nil)

// UpdateChat implements chats.Updater.
func (s *Session) UpdateChat(ctx context.Context, u chats.Update) error {
	target, err := ParseJID(u.Chat)
	if err != nil {
		return fmt.Errorf("whatsmeow: update chat: %w", err)
	}
	patches := chatPatches(target, u)
	if len(patches) == 0 {
		return fmt.Errorf("whatsmeow: update chat: %w: nothing to change", session.ErrInvalid)
	}
	cli, err := s.loggedIn()
	if err != nil {
		return fmt.Errorf("whatsmeow: update chat: %w", err)
	}
	if u.Read != nil && *u.Read {
		for sender, ids := range unreadBySender(target, u.Unread) {
			var from types.JID
			if sender != "" {
				if from, err = ParseJID(sender); err != nil {
					return fmt.Errorf("whatsmeow: update chat: %w", err)
				}
			}
			if err := cli.MarkRead(ctx, ids, s.d.cfg.Now(), target, from); err != nil {
				return fmt.Errorf("whatsmeow: update chat: mark read: %w", sendError(err))
			}
		}
	}
	for _, p := range patches {
		if err := cli.SendAppState(ctx, p); err != nil {
			return fmt.Errorf("whatsmeow: update chat: %w", sendError(err))
		}
	}
	return nil
}

// chatPatches builds the app-state patches of an update, in a fixed order.
func chatPatches(target types.JID, u chats.Update) []appstate.PatchInfo {
	var lastAt time.Time
	var lastKey *waCommon.MessageKey
	if u.Last != nil {
		lastAt = u.Last.At
		lastKey = &waCommon.MessageKey{RemoteJID: proto.String(target.String()), FromMe: proto.Bool(u.Last.FromMe), ID: proto.String(u.Last.ID)}
		if target.Server == types.GroupServer && !u.Last.FromMe && u.Last.Sender != "" {
			lastKey.Participant = proto.String(u.Last.Sender)
		}
	}
	var out []appstate.PatchInfo
	if u.Archived != nil {
		out = append(out, appstate.BuildArchive(target, *u.Archived, lastAt, lastKey))
	}
	if u.Pinned != nil {
		out = append(out, appstate.BuildPin(target, *u.Pinned))
	}
	if u.Mute != nil {
		var end *int64 // nil with mute: until unmuted (-1)
		if *u.Mute && u.MutedUntil != nil && u.MutedUntil.Before(chats.Forever) {
			end = proto.Int64(u.MutedUntil.UnixMilli())
		}
		out = append(out, appstate.BuildMuteAbs(target, *u.Mute, end))
	}
	if u.Read != nil {
		out = append(out, appstate.BuildMarkChatAsRead(target, *u.Read, lastAt, lastKey))
	}
	return out
}

// unreadBySender groups the unread messages of a chat by sender, as read
// receipts name one sender each (none in a direct chat).
func unreadBySender(target types.JID, unread []chats.MessageRef) map[string][]types.MessageID {
	out := map[string][]types.MessageID{}
	for _, m := range unread {
		sender := ""
		if target.Server == types.GroupServer {
			if m.Sender == "" {
				continue
			}
			sender = m.Sender
		}
		out[sender] = append(out[sender], m.ID)
	}
	return out
}

// chatChange translates the app-state events of a chat's settings.
func chatChange(evt any, pn pnResolver) (chats.Change, bool) {
	var (
		c   chats.Change
		jid types.JID
	)
	switch e := evt.(type) {
	case *events.Archive:
		jid, c.Timestamp, c.FullSync = e.JID, e.Timestamp, e.FromFullSync
		c.Archived = proto.Bool(e.Action.GetArchived())
	case *events.Pin:
		jid, c.Timestamp, c.FullSync = e.JID, e.Timestamp, e.FromFullSync
		c.Pinned = proto.Bool(e.Action.GetPinned())
	case *events.Mute:
		jid, c.Timestamp, c.FullSync = e.JID, e.Timestamp, e.FromFullSync
		muted := e.Action.GetMuted()
		c.Muted = &muted
		if end := e.Action.GetMuteEndTimestamp(); muted && end > 0 {
			t := time.UnixMilli(end).UTC()
			c.MutedUntil = &t
		}
	case *events.MarkChatAsRead:
		jid, c.Timestamp, c.FullSync = e.JID, e.Timestamp, e.FromFullSync
		c.Read = proto.Bool(e.Action.GetRead())
	default:
		return c, false
	}
	if jid.IsEmpty() {
		return c, false
	}
	c.Chat, c.ChatLID = pn.address(jid, types.EmptyJID)
	c.Timestamp = c.Timestamp.UTC()
	return c, true
}
