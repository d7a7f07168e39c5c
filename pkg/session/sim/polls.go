package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
)

type voteArgs struct {
	From    string   `json:"from"`
	Chat    string   `json:"chat"`
	ID      string   `json:"id"`
	Options []string `json:"options"`
}

// vote is a contact's vote in a poll of the channel's message log (one
// it sent, or one it received): message.poll_vote with the chosen option
// names, delivered at least once like an inbound message. WhatsApp
// encrypts a vote with the poll's secret and names the options by hash;
// a voter can pick only options of the poll, and a vote on a poll this
// device cannot know is unreadable (whatsmeow drops it), so the simulator
// refuses both.
func (s *Session) vote(ctx context.Context, a voteArgs) (any, error) {
	if a.ID == "" {
		return nil, fmt.Errorf("%w: id (the poll's WhatsApp id) is required", session.ErrInvalid)
	}
	from, chat, err := fromAndChat(a.From, a.Chat)
	if err != nil {
		return nil, err
	}
	if s.messages == nil {
		return nil, fmt.Errorf("%w: the session has no message log to find poll %s in", session.ErrInvalid, a.ID)
	}
	options, err := s.messages.PollOptions(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if options == nil {
		return nil, fmt.Errorf("%w: no poll %s in the channel's message log", session.ErrInvalid, a.ID)
	}
	selected := []string{}
	for _, o := range a.Options {
		if !slices.Contains(options, o) {
			return nil, fmt.Errorf("%w: %q is not an option of poll %s (%s)", session.ErrInvalid, o, a.ID, strings.Join(options, ", "))
		}
		if !slices.Contains(selected, o) {
			selected = append(selected, o)
		}
	}
	d := session.PollVoteData{ID: randomMessageID(), MessageID: a.ID, Chat: chat, From: from, Selected: selected, Timestamp: s.d.cfg.Now()}
	if d.FromLID, err = s.lidOf(ctx, from); err != nil {
		return nil, err
	}
	if chat == from {
		d.ChatLID = d.FromLID
	}
	return IDResult{ID: d.ID}, s.deliverInbound(ctx, d.ID, inbound(event.MessagePollVote, d.Timestamp, d))
}

// RetryResult is what the retry_receipt action returns: whether the
// message asked for again could be sent again.
type RetryResult struct {
	Resent bool `json:"resent"`
}

type retryReceiptArgs struct {
	ID string `json:"id"`
}

// retryReceipt is a recipient's device asking for a message again (it
// could not decrypt it): whatsmeow answers from its cache of recent sends,
// else from the message log (GetMessageForRetry), which is all a session
// has after a reconnect or a failover. The simulator's connection keeps
// no cache, so the answer always comes from the log, as after a failover.
// A message resent is counted (PhoneState "resent"); one the log does not
// keep leaves the recipient with "Waiting for this message".
func (s *Session) retryReceipt(ctx context.Context, a retryReceiptArgs) (any, error) {
	if a.ID == "" {
		return nil, fmt.Errorf("%w: id (the message's WhatsApp id) is required", session.ErrInvalid)
	}
	if !s.isConnected() {
		return nil, session.ErrNotConnected
	}
	if s.messages == nil {
		return RetryResult{}, nil
	}
	payload, err := s.messages.SentPayload(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if payload == nil {
		return RetryResult{}, nil
	}
	key := s.d.cfg.Keys.SimPhone(s.channelID)
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HIncrBy(ctx, key, "resent", 1)
	pipe.Expire(ctx, key, 24*time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	return RetryResult{Resent: true}, nil
}
