package whatsmeow

import (
	"context"
	"fmt"

	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/session"
)

// Optional capabilities beyond session.Session. Their methods take plain
// strings, so a caller declares the same one-method interface where it
// uses it and detects it by type assertion, without importing this
// package.
type (
	// Reader marks messages as read.
	Reader interface {
		// MarkRead marks ids (WhatsApp message ids) in chat as read, which
		// sends read receipts (blue ticks) unless the account disabled
		// them. sender is their author, required in groups.
		MarkRead(ctx context.Context, chat, sender string, ids []string) error
	}
	// Presencer sets what contacts see of the account.
	Presencer interface {
		// SendPresence with chat == "" sets the account available
		// (online) or unavailable; with a chat, it shows composing (or
		// typing), recording or paused (stopped typing) there. Contacts'
		// typing reaches this account only while it is available.
		SendPresence(ctx context.Context, state, chat string) error
	}
	// PresenceSubscriber follows contacts' presence.
	PresenceSubscriber interface {
		// SubscribePresence asks WhatsApp for the online status of
		// contact (a phone number or JID) for as long as the connection
		// lives: presence.updated events follow, while the account is
		// available.
		SubscribePresence(ctx context.Context, contact string) error
	}
)

// MarkRead implements Reader.
func (s *Session) MarkRead(ctx context.Context, chat, sender string, ids []string) error {
	if len(ids) == 0 {
		return fmt.Errorf("whatsmeow: mark read: %w: no message ids", session.ErrInvalid)
	}
	c, err := ParseJID(chat)
	if err != nil {
		return fmt.Errorf("whatsmeow: mark read: %w", err)
	}
	var from types.JID
	if sender != "" {
		if from, err = ParseJID(sender); err != nil {
			return fmt.Errorf("whatsmeow: mark read: %w", err)
		}
	} else if c.Server == types.GroupServer {
		return fmt.Errorf("whatsmeow: mark read: %w: sender is required in groups", session.ErrInvalid)
	}
	cli, err := s.loggedIn()
	if err != nil {
		return fmt.Errorf("whatsmeow: mark read: %w", err)
	}
	if err := cli.MarkRead(ctx, ids, s.d.cfg.Now(), c, from); err != nil {
		return fmt.Errorf("whatsmeow: mark read: %w", sendError(err))
	}
	return nil
}

// SendPresence implements Presencer.
func (s *Session) SendPresence(ctx context.Context, state, chat string) error {
	var to types.JID
	if chat != "" {
		var err error
		if to, err = ParseJID(chat); err != nil {
			return fmt.Errorf("whatsmeow: presence: %w", err)
		}
	}
	send, err := presenceCall(to, state)
	if err != nil {
		return fmt.Errorf("whatsmeow: presence: %w", err)
	}
	cli, err := s.loggedIn()
	if err != nil {
		return fmt.Errorf("whatsmeow: presence: %w", err)
	}
	if err := send(ctx, cli); err != nil {
		// ErrNoPushName until the phone synced the account's name: a
		// retry later succeeds.
		return fmt.Errorf("whatsmeow: presence: %w", sendError(err))
	}
	return nil
}

// SubscribePresence implements PresenceSubscriber.
func (s *Session) SubscribePresence(ctx context.Context, contact string) error {
	to, err := ParseJID(contact)
	if err != nil {
		return fmt.Errorf("whatsmeow: subscribe presence: %w", err)
	}
	if to.Server != types.DefaultUserServer && to.Server != types.HiddenUserServer {
		return fmt.Errorf("whatsmeow: subscribe presence: %w: %s is not a contact", session.ErrInvalid, to)
	}
	cli, err := s.loggedIn()
	if err != nil {
		return fmt.Errorf("whatsmeow: subscribe presence: %w", err)
	}
	if err := cli.SubscribePresence(ctx, to); err != nil {
		return fmt.Errorf("whatsmeow: subscribe presence: %w", sendError(err))
	}
	return nil
}

// presenceSender is the part of the client presence needs.
type presenceSender interface {
	SendPresence(ctx context.Context, state types.Presence) error
	SendChatPresence(ctx context.Context, jid types.JID, state types.ChatPresence, media types.ChatPresenceMedia) error
}

// presenceCall checks state and returns the call that sets it.
func presenceCall(chat types.JID, state string) (func(context.Context, presenceSender) error, error) {
	if chat.IsEmpty() {
		switch state {
		case "available", "unavailable":
			return func(ctx context.Context, p presenceSender) error {
				return p.SendPresence(ctx, types.Presence(state))
			}, nil
		}
		return nil, fmt.Errorf("%w: presence without a chat is available or unavailable, not %q", session.ErrInvalid, state)
	}
	var (
		cp    types.ChatPresence
		media types.ChatPresenceMedia
	)
	switch state {
	case "composing", "typing":
		cp = types.ChatPresenceComposing
	case "recording":
		cp, media = types.ChatPresenceComposing, types.ChatPresenceMediaAudio
	case "paused":
		cp = types.ChatPresencePaused
	default:
		return nil, fmt.Errorf("%w: presence in a chat is composing, recording or paused, not %q", session.ErrInvalid, state)
	}
	return func(ctx context.Context, p presenceSender) error {
		return p.SendChatPresence(ctx, chat, cp, media)
	}, nil
}
