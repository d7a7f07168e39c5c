package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/wagate/wagate/pkg/session"
)

// MarkRead marks messages of chat read, as the worker's `read` command
// asks. The simulated phone records how many it saw marked read
// (PhoneState "read") so tests and demos can follow it.
func (s *Session) MarkRead(ctx context.Context, chat, _ string, ids []string) error {
	if _, err := toJID(chat); err != nil {
		return fmt.Errorf("sim: mark read: %w", err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("sim: mark read: %w: no message ids", session.ErrInvalid)
	}
	if !s.isConnected() {
		return fmt.Errorf("sim: mark read: %w", session.ErrNotConnected)
	}
	key := s.d.cfg.Keys.SimPhone(s.channelID)
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HIncrBy(ctx, key, "read", int64(len(ids)))
	pipe.Expire(ctx, key, 24*time.Hour)
	_, err := pipe.Exec(ctx)
	return err
}

// SendPresence sets our presence (available, unavailable) or, with a
// chat, a chat state (composing, recording, paused). The simulated phone
// records the last one (PhoneState "presence").
func (s *Session) SendPresence(ctx context.Context, state, chat string) error {
	switch state {
	case "available", "unavailable", "composing", "recording", "paused":
	default:
		return fmt.Errorf("sim: presence: %w: unknown state %q", session.ErrInvalid, state)
	}
	if !s.isConnected() {
		return fmt.Errorf("sim: presence: %w", session.ErrNotConnected)
	}
	if chat == "" {
		s.setAvailable(state == "available")
	}
	key := s.d.cfg.Keys.SimPhone(s.channelID)
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HSet(ctx, key, "presence", state+" "+chat)
	pipe.Expire(ctx, key, 24*time.Hour)
	_, err := pipe.Exec(ctx)
	return err
}

func (s *Session) isConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase == connected
}
