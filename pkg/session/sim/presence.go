package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
)

// presenceState is what one connection told WhatsApp of presence: whether
// the account is available, and whose presence it subscribed to. WhatsApp
// forgets both with the connection.
type presenceState struct {
	gen        uint64
	available  bool
	subscribed map[string]bool
}

// presenceLocked is the current connection's presence state; s.mu is held.
func (s *Session) presenceLocked() *presenceState {
	if s.presenceOf.gen != s.gen {
		s.presenceOf = presenceState{gen: s.gen}
	}
	return &s.presenceOf
}

// setAvailable records the account's own presence (SendPresence without a
// chat).
func (s *Session) setAvailable(available bool) {
	s.mu.Lock()
	s.presenceLocked().available = available
	s.mu.Unlock()
}

// SubscribePresence asks for contact's online status for as long as the
// connection lives, as whatsmeow's SubscribePresence: the presence action
// of that contact reaches the sink as presence.updated, while the account
// is available.
func (s *Session) SubscribePresence(_ context.Context, contact string) error {
	jid, err := toJID(contact)
	if err != nil {
		return fmt.Errorf("sim: subscribe presence: %w", err)
	}
	if !strings.HasSuffix(jid, "@s.whatsapp.net") && !strings.HasSuffix(jid, "@lid") {
		return fmt.Errorf("sim: subscribe presence: %w: %s is not a contact", session.ErrInvalid, jid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != connected {
		return fmt.Errorf("sim: subscribe presence: %w", session.ErrNotConnected)
	}
	p := s.presenceLocked()
	if p.subscribed == nil {
		p.subscribed = map[string]bool{}
	}
	p.subscribed[jid] = true
	return nil
}

var (
	onlineStates = []string{"available", "unavailable"}
	chatStates   = []string{"composing", "recording", "paused"}
)

// PresenceResult is what the presence action returns: whether WhatsApp
// passed the presence on to the account. It does so for a typing state
// only while the account is available, and for an online status only
// while the account is available and subscribed to the contact.
type PresenceResult struct {
	Delivered bool `json:"delivered"`
}

type presenceArgs struct {
	From  string `json:"from"`
	Chat  string `json:"chat"`
	State string `json:"state"`
}

// presence is a contact's online status (available, unavailable:
// presence.updated) or typing state in a chat (composing, recording,
// paused: chat.presence), passed on under WhatsApp's conditions (see
// PresenceResult).
func (s *Session) presence(ctx context.Context, a presenceArgs) (any, error) {
	typing := slices.Contains(chatStates, a.State)
	if !typing && !slices.Contains(onlineStates, a.State) {
		return nil, fmt.Errorf("%w: state %q is not one of %s", session.ErrInvalid, a.State,
			strings.Join(append(slices.Clone(onlineStates), chatStates...), ", "))
	}
	if !typing && a.Chat != "" {
		return nil, fmt.Errorf("%w: chat is for typing states only", session.ErrInvalid)
	}
	from, chat, err := fromAndChat(a.From, a.Chat)
	if err != nil {
		return nil, err
	}
	lid, err := s.lidOf(ctx, from)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.phase != connected {
		s.mu.Unlock()
		return nil, session.ErrNotConnected
	}
	p := s.presenceLocked()
	passed := p.available && (typing || p.subscribed[from] || (lid != "" && p.subscribed[lid]))
	s.mu.Unlock()
	if !passed {
		return PresenceResult{}, nil
	}
	now := s.d.cfg.Now()
	var ev session.Inbound
	if typing {
		d := session.ChatPresenceData{Chat: chat, From: from, FromLID: lid, State: a.State, Timestamp: now}
		if chat == from {
			d.ChatLID = lid
		}
		ev = inbound(event.ChatPresence, now, d)
	} else {
		ev = inbound(event.PresenceUpdated, now, session.PresenceData{From: from, FromLID: lid, State: a.State, Timestamp: now})
	}
	return PresenceResult{Delivered: true}, s.emitConnected(ev)
}
