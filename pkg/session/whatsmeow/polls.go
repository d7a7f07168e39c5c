package whatsmeow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
)

// errPollVoteUnreadable: the vote's poll secret is unknown here, so no
// retry can ever decrypt it; the vote is dropped (and counted).
var errPollVoteUnreadable = errors.New("whatsmeow: poll vote cannot be decrypted")

// pollVote translates a poll vote into message.poll_vote. A vote arrives
// encrypted with a key derived from the poll's message secret, which
// whatsmeow keeps in its store (written when the poll was sent or
// received): DecryptPollVote opens it and yields the SHA-256 hashes of
// the selected option names, which are mapped back to names through the
// poll's options in the message log. When whatsmeow's store has lost the
// secret of a poll this channel sent, the secret recorded with the sent
// message (its payload) is put back and the vote decrypted again.
//
// An error wrapping errPollVoteUnreadable means the vote can never be
// read; any other error is the message log's and worth a redelivery.
func pollVote(ctx context.Context, cli *wa.Client, msgs session.MessageLog, e *events.Message, now time.Time, pn pnResolver) (session.Inbound, error) {
	update := e.Message.GetPollUpdateMessage()
	key := update.GetPollCreationMessageKey()
	vote, err := cli.DecryptPollVote(ctx, e)
	if errors.Is(err, wa.ErrOriginalMessageSecretNotFound) && msgs != nil {
		var restored bool
		if restored, err = restorePollSecret(ctx, cli, msgs, e); err != nil {
			return session.Inbound{}, err
		}
		if restored {
			vote, err = cli.DecryptPollVote(ctx, e)
		} else {
			err = wa.ErrOriginalMessageSecretNotFound
		}
	}
	if err != nil {
		return session.Inbound{}, fmt.Errorf("%w: poll %s: %w", errPollVoteUnreadable, key.GetID(), err)
	}
	var options []string
	if msgs != nil {
		if options, err = msgs.PollOptions(ctx, key.GetID()); err != nil {
			return session.Inbound{}, fmt.Errorf("whatsmeow: poll vote: options of poll %s: %w", key.GetID(), err)
		}
	}
	base := baseMessage(&e.Info, now, pn)
	d := session.PollVoteData{
		ID: base.ID, MessageID: key.GetID(), Chat: base.Chat, ChatLID: base.ChatLID, From: base.From, FromLID: base.FromLID,
		FromMe: base.FromMe, Selected: []string{}, Timestamp: base.Timestamp,
	}
	if ms := update.GetSenderTimestampMS(); ms > 0 {
		d.Timestamp = time.UnixMilli(ms).UTC()
	}
	d.Selected, d.Unknown = optionNames(vote.GetSelectedOptions(), options)
	return inbound(event.MessagePollVote, d.Timestamp, d), nil
}

// optionNames maps the SHA-256 hashes of a vote back to the names among
// options; hashes matching none (a poll the log does not know) are
// returned hex-encoded in unknown.
func optionNames(hashes [][]byte, options []string) (names, unknown []string) {
	byHash := make(map[[sha256.Size]byte]string, len(options))
	for _, o := range options {
		byHash[sha256.Sum256([]byte(o))] = o
	}
	names = []string{}
	for _, h := range hashes {
		var k [sha256.Size]byte
		if len(h) == sha256.Size {
			copy(k[:], h)
			if name, ok := byHash[k]; ok {
				names = append(names, name)
				continue
			}
		}
		unknown = append(unknown, hex.EncodeToString(h))
	}
	return names, unknown
}

// restorePollSecret puts the message secret of a poll this channel sent
// back into whatsmeow's store from the payload recorded with it, under the
// chat and sender DecryptPollVote looks it up by. It reports whether
// there was one to restore.
func restorePollSecret(ctx context.Context, cli *wa.Client, msgs session.MessageLog, e *events.Message) (bool, error) {
	key := e.Message.GetPollUpdateMessage().GetPollCreationMessageKey()
	payload, err := msgs.SentPayload(ctx, key.GetID())
	if err != nil {
		return false, fmt.Errorf("whatsmeow: poll vote: payload of poll %s: %w", key.GetID(), err)
	}
	if payload == nil {
		return false, nil
	}
	var poll waE2E.Message
	if err := proto.Unmarshal(payload, &poll); err != nil {
		return false, nil // not a payload this driver wrote
	}
	secret := poll.GetMessageContextInfo().GetMessageSecret()
	if len(secret) == 0 {
		return false, nil
	}
	// As whatsmeow's getOrigSenderFromKey: the key is the voter's view of
	// the poll, which names its author (us) by the chat in a direct chat
	// and by the participant in a group.
	author := key.GetRemoteJID()
	switch {
	case key.GetFromMe():
		author = e.Info.Sender.String()
	case e.Info.Chat.Server != types.DefaultUserServer && e.Info.Chat.Server != types.HiddenUserServer:
		author = key.GetParticipant()
	}
	sender, err := types.ParseJID(author)
	if err != nil {
		return false, nil
	}
	if err := cli.Store.MsgSecrets.PutMessageSecret(ctx, e.Info.Chat, sender, key.GetID(), secret); err != nil {
		return false, fmt.Errorf("whatsmeow: poll vote: restore the secret of poll %s: %w", key.GetID(), err)
	}
	return true, nil
}

// messageForRetry is whatsmeow's GetMessageForRetry: the message a
// recipient's device asks to be sent again (a retry receipt) when the
// client's cache of recent sends does not have it, as after a reconnect
// or a failover to another worker. It is read from the payload recorded
// with the sent message; nil (whatsmeow then ignores the receipt) when
// the log has none.
func messageForRetry(ctx context.Context, msgs session.MessageLog, timeout time.Duration, id types.MessageID) (*waE2E.Message, error) {
	if msgs == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	payload, err := msgs.SentPayload(ctx, id)
	if err != nil || payload == nil {
		return nil, err
	}
	var msg waE2E.Message
	if err := proto.Unmarshal(payload, &msg); err != nil {
		return nil, fmt.Errorf("whatsmeow: payload of %s is not a message: %w", id, err)
	}
	return &msg, nil
}
