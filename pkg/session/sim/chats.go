package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the chat capability of a simulated session (package chats
// documents the contract). WhatsApp keeps a chat's archive, pin, mute and
// read state in the account's app state and sends every change to all of
// the account's devices — the one that made it included, which whatsmeow
// reports after SendAppState as events.Archive, Pin, Mute and
// MarkChatAsRead. The simulated server does the same: a change made
// through UpdateChat, or on the phone (control action "chat"), comes back
// as a chat.updated session event with a chats.Change.

// ActionChat changes a chat's settings on the phone (control action
// "chat"): {"chat": "<JID or number>", "archived": true, "pinned": true,
// "muted_until": "<RFC 3339>"|"forever"|null, "read": true}.
const ActionChat = "chat"

func init() { actions[ActionChat] = act((*Session).chatControl, chatArgs{}) }

var _ chats.Updater = (*Session)(nil)

// UpdateChat implements chats.Updater.
func (s *Session) UpdateChat(ctx context.Context, u chats.Update) error {
	if _, err := s.groupSelf(); err != nil {
		return fmt.Errorf("sim: update chat: %w", err)
	}
	if err := validChat(u.Chat); err != nil {
		return fmt.Errorf("sim: update chat: %w", err)
	}
	if u.Archived == nil && u.Pinned == nil && u.Mute == nil && u.Read == nil {
		return fmt.Errorf("sim: update chat: %w: nothing to change", session.ErrInvalid)
	}
	return s.emitConnected(chatEvent(u.Change(s.d.cfg.Now().UTC())))
}

func validChat(chat string) error {
	for _, server := range []string{"@" + UserServer, "@" + LIDServer, "@g.us"} {
		if strings.HasSuffix(chat, server) && len(chat) > len(server) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not a chat JID", session.ErrInvalid, chat)
}

func chatEvent(c chats.Change) session.Inbound {
	return inbound(chats.EventUpdated, c.Timestamp, c)
}

type chatArgs struct {
	Chat       string          `json:"chat"`
	Archived   *bool           `json:"archived"`
	Pinned     *bool           `json:"pinned"`
	MutedUntil json.RawMessage `json:"muted_until"`
	Read       *bool           `json:"read"`
}

// chatControl is a change made on the phone.
func (s *Session) chatControl(_ context.Context, a chatArgs) (any, error) {
	chat := a.Chat
	if !strings.Contains(chat, "@") {
		phone, err := validatePhone(chat)
		if err != nil {
			return nil, err
		}
		chat = phone + "@" + UserServer
	}
	if err := validChat(chat); err != nil {
		return nil, err
	}
	c := chats.Change{Chat: chat, Archived: a.Archived, Pinned: a.Pinned, Read: a.Read, Timestamp: s.d.cfg.Now().UTC()}
	if len(a.MutedUntil) > 0 {
		var v *string
		if err := json.Unmarshal(a.MutedUntil, &v); err != nil {
			return nil, fmt.Errorf("%w: muted_until: %v", session.ErrInvalid, err)
		}
		muted := v != nil
		c.Muted = &muted
		switch {
		case v == nil:
		case *v == "forever":
			t := chats.Forever
			c.MutedUntil = &t
		default:
			t, err := time.Parse(time.RFC3339, *v)
			if err != nil {
				return nil, fmt.Errorf("%w: muted_until: %v", session.ErrInvalid, err)
			}
			c.MutedUntil = &t
		}
	}
	if err := s.emitConnected(chatEvent(c)); err != nil {
		return nil, err
	}
	return c, nil
}
