package worker

import (
	"context"
	"time"

	"github.com/wagate/wagate/pkg/presence"
)

// presenceSubscriber is an optional session capability: following a
// contact's online status for the life of the connection.
type presenceSubscriber interface {
	SubscribePresence(ctx context.Context, contact string) error
}

// presenceTimeout bounds the presence work done after a connection, so a
// slow WhatsApp does not hold the mailbox.
const presenceTimeout = 10 * time.Second

// announcePresence runs after every connection (package presence has the
// rules): online, the account becomes available and follows the direct
// chats with recent traffic; offline, it sends unavailable once, which
// gives WhatsApp its push name. Failures are logged: presence is a
// courtesy, never a reason to drop a connection.
func (c *channelRun) announcePresence(ctx context.Context) {
	p, ok := c.sess.(presencer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, presenceTimeout)
	defer cancel()
	c.presenceSubs, c.presenceGen = map[string]bool{}, c.gen
	online := c.row != nil && presence.SettingsOf(c.row.Settings).IsOnline()
	st := "unavailable"
	if online {
		st = "available"
	}
	if err := p.SendPresence(ctx, st, ""); err != nil {
		// whatsmeow refuses before the phone synced the push name; the
		// next connection tries again.
		c.log.Warn("cannot send the channel's presence", "presence", st, "err", err)
		return
	}
	if !online {
		return
	}
	chats, err := c.sr.w.cfg.Store.RecentChats(ctx, c.id, time.Now().Add(-presence.RecentWindow), presence.MaxSubscriptions)
	if err != nil {
		c.log.Warn("cannot list recent chats to follow their presence", "err", err)
		return
	}
	for _, chat := range chats {
		c.followPresence(ctx, chat)
	}
}

// followPresence subscribes to the presence of chat's contact once per
// connection, when the channel is online and chat is a direct chat.
func (c *channelRun) followPresence(ctx context.Context, chat string) {
	s, ok := c.sess.(presenceSubscriber)
	if !ok || c.presenceGen != c.gen || c.presenceSubs == nil || c.presenceSubs[chat] ||
		len(c.presenceSubs) >= presence.MaxSubscriptions || !presence.Subscribable(chat) ||
		c.row == nil || !presence.SettingsOf(c.row.Settings).IsOnline() {
		return
	}
	c.presenceSubs[chat] = true
	ctx, cancel := context.WithTimeout(ctx, presenceTimeout)
	defer cancel()
	if err := s.SubscribePresence(ctx, chat); err != nil {
		c.log.Debug("cannot follow a chat's presence", "err", err)
	}
}
