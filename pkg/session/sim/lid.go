package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/session"
)

// LID addressing, as WhatsApp does it today: a contact may be addressed by
// a LID (…@lid) instead of its phone number. The simulator keeps a mode per
// contact (names.Redis.SimAddressing, shared by the fleet), set by the
// inbound control's "addressing" argument ("lid" or "pn") and kept for the
// contact's later messages, reactions, calls and presence. A contact's LID
// is derived from its number (LID). The events carry what the whatsmeow
// driver reports for such a contact whose number it knows: chat and from
// stay the phone-number JIDs, and chat_lid, from_lid and
// addressing_mode "lid" tell the LID WhatsApp used.

// LID is the simulated LID of the contact with phone-number JID jid, the
// one LIDOf gives its number.
func LID(jid string) string {
	user, _, _ := strings.Cut(jid, "@")
	return LIDOf(user)
}

// lidOf is the LID the simulated WhatsApp addresses contact jid by, ""
// when it uses the phone number.
func (s *Session) lidOf(ctx context.Context, jid string) (string, error) {
	if !strings.HasSuffix(jid, "@"+UserServer) {
		return "", nil
	}
	mode, err := s.d.cfg.Redis.HGet(ctx, s.d.cfg.Keys.SimAddressing(), jid).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read the addressing of %s: %w", jid, err)
	case mode == "lid":
		return LID(jid), nil
	}
	return "", nil
}

// addressMessage records mode ("", "pn" or "lid") for the sender of d and
// fills d's LID fields from the sender's mode.
func (s *Session) addressMessage(ctx context.Context, d *session.MessageData, mode string) error {
	key := s.d.cfg.Keys.SimAddressing()
	switch mode {
	case "":
	case "lid":
		if err := s.d.cfg.Redis.HSet(ctx, key, d.From, "lid").Err(); err != nil {
			return fmt.Errorf("set the addressing of %s: %w", d.From, err)
		}
	case "pn":
		if err := s.d.cfg.Redis.HDel(ctx, key, d.From).Err(); err != nil {
			return fmt.Errorf("set the addressing of %s: %w", d.From, err)
		}
	default:
		return fmt.Errorf("%w: addressing %q is not lid or pn", session.ErrInvalid, mode)
	}
	lid, err := s.lidOf(ctx, d.From)
	if err != nil {
		return err
	}
	d.AddressingMode = "pn"
	if lid != "" {
		d.AddressingMode, d.FromLID = "lid", lid
		if d.Chat == d.From {
			d.ChatLID = lid
		}
	}
	return nil
}
