package whatsmeow

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/session"
	wstore "github.com/wagate/wagate/pkg/store"
)

// messageLog is the worker's session.MessageLog over wagate's store: the
// message log in Postgres, as the driver reads it in production.
type messageLog struct {
	st      *wstore.Store
	channel string
}

func (l messageLog) SentPayload(ctx context.Context, waID string) ([]byte, error) {
	return l.st.SentPayload(ctx, l.channel, waID)
}

func (l messageLog) PollOptions(ctx context.Context, waID string) ([]string, error) {
	return l.st.PollOptions(ctx, l.channel, waID)
}

// pollBundle is two linked devices in one store (this account and a
// contact who votes) and this account's message log.
type pollBundle struct {
	d          *Driver
	us, voter  *store.Device
	log        messageLog
	usJID      types.JID // this account, without device
	voterJID   types.JID
	pollSecret []byte
}

func setupPolls(t *testing.T) pollBundle {
	t.Helper()
	ctx := context.Background()
	f := newFleet(t)
	d := f.driver(t, Config{})
	us, err := d.container.GetDevice(ctx, storeDevice(t, d.container))
	require.NoError(t, err)
	voter, err := d.container.GetDevice(ctx, storeDevice(t, d.container))
	require.NoError(t, err)
	st, err := wstore.Open(ctx, f.dsn)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	ch := ids.New(ids.Channel)
	require.NoError(t, st.CreateChannel(ctx, &wstore.Channel{ID: ch, Name: "polls", TokenHash: []byte(ch), Driver: Name}))
	return pollBundle{d: d, us: us, voter: voter, log: messageLog{st: st, channel: ch}, usJID: us.ID.ToNonAD(), voterJID: voter.ID.ToNonAD()}
}

// sendPoll builds a poll as Send does, records it in the message log as
// the worker does after a send (its request as body, the sent protobuf as
// payload), and returns its WhatsApp id. storeSecret says whether
// whatsmeow's SendMessage stored the secret in its own table (it only
// warns when that fails).
func (b *pollBundle) sendPoll(t *testing.T, storeSecret bool, options ...string) types.MessageID {
	t.Helper()
	ctx := context.Background()
	body := SendBody{To: b.voterJID.String(), Type: "poll", Poll: &Poll{Name: "When do we meet?", Options: options, Selectable: len(options)}}
	msg, err := (&builder{self: b.usJID}).build(ctx, b.voterJID, body)
	require.NoError(t, err)
	b.pollSecret = msg.GetMessageContextInfo().GetMessageSecret()
	require.Len(t, b.pollSecret, 32)
	m := &wstore.Message{ID: ids.New(ids.Message), ChannelID: b.log.channel, Chat: b.voterJID.String(), Type: "poll", Body: mustJSON(t, body)}
	_, _, err = b.log.st.EnqueueMessage(ctx, m)
	require.NoError(t, err)
	waID := MessageID(m.ID)
	payload, err := proto.Marshal(msg)
	require.NoError(t, err)
	changed, err := b.log.st.AdvanceEach(ctx, b.log.channel, wstore.StatusSent, wstore.Failure{}, []wstore.Step{{ID: m.ID, WAID: waID, At: time.Now(), Payload: payload}})
	require.NoError(t, err)
	require.Len(t, changed, 1)
	if storeSecret {
		// As SendMessage: under the recipient's chat and our own JID.
		require.NoError(t, b.us.MsgSecrets.PutMessageSecret(ctx, b.voterJID, b.usJID, waID, b.pollSecret))
	}
	// The voter's whatsmeow stored the secret when the poll arrived
	// (message.go: under the poll's chat and sender, both us for them).
	require.NoError(t, b.voter.MsgSecrets.PutMessageSecret(ctx, b.usJID, b.usJID, waID, b.pollSecret))
	return waID
}

// vote is the events.Message this account's whatsmeow emits for the
// voter's choice, encrypted by the voter's whatsmeow (BuildPollVote).
func (b *pollBundle) vote(t *testing.T, poll types.MessageID, choice ...string) *events.Message {
	t.Helper()
	voterCli := wa.NewClient(b.voter, nil)
	pollInfo := &types.MessageInfo{MessageSource: types.MessageSource{Chat: b.usJID, Sender: b.usJID}, ID: poll}
	msg, err := voterCli.BuildPollVote(context.Background(), pollInfo, choice)
	require.NoError(t, err)
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: b.voterJID, Sender: *b.voter.ID, AddressingMode: types.AddressingModePN},
			ID:            "3EB0" + "A1B2C3D4E5F6A7B8C9D0",
			Timestamp:     time.Now().Add(-time.Second).Truncate(time.Second),
			PushName:      "Voter",
		},
		Message: msg,
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func pollVoteOf(t *testing.T, in session.Inbound) session.PollVoteData {
	t.Helper()
	require.Equal(t, event.MessagePollVote, in.Type)
	var d session.PollVoteData
	require.NoError(t, json.Unmarshal(in.Data, &d))
	return d
}

func TestPollVoteDecryptedToOptionNames(t *testing.T) {
	t.Parallel()
	b := setupPolls(t)
	poll := b.sendPoll(t, true, "Monday", "Tuesday", "Wednesday")
	usCli := wa.NewClient(b.us, nil)

	in, err := pollVote(context.Background(), usCli, b.log, b.vote(t, poll, "Monday", "Wednesday"), time.Now(), nil)
	require.NoError(t, err)
	d := pollVoteOf(t, in)
	require.Equal(t, poll, d.MessageID)
	require.Equal(t, []string{"Monday", "Wednesday"}, d.Selected)
	require.Empty(t, d.Unknown)
	require.Equal(t, b.voterJID.String(), d.From)
	require.Equal(t, b.voterJID.String(), d.Chat)

	// A vote with nothing selected withdraws the earlier one.
	in, err = pollVote(context.Background(), usCli, b.log, b.vote(t, poll), time.Now(), nil)
	require.NoError(t, err)
	require.Equal(t, []string{}, pollVoteOf(t, in).Selected)
}

func TestPollVoteAfterTheStoreLostThePollSecret(t *testing.T) {
	t.Parallel()
	b := setupPolls(t)
	// whatsmeow failed to store the secret when sending (it only warns):
	// the secret recorded with the sent message decrypts the vote.
	poll := b.sendPoll(t, false, "Yes", "No")
	in, err := pollVote(context.Background(), wa.NewClient(b.us, nil), b.log, b.vote(t, poll, "No"), time.Now(), nil)
	require.NoError(t, err)
	require.Equal(t, []string{"No"}, pollVoteOf(t, in).Selected)
}

func TestPollVoteOnAnUnknownPollIsUnreadable(t *testing.T) {
	t.Parallel()
	b := setupPolls(t)
	poll := b.sendPoll(t, true, "Yes", "No")
	evt := b.vote(t, poll, "Yes")
	evt.Message.PollUpdateMessage.PollCreationMessageKey.ID = proto.String("3EB0FFFFFFFFFFFFFFFFFFFF")
	_, err := pollVote(context.Background(), wa.NewClient(b.us, nil), b.log, evt, time.Now(), nil)
	require.ErrorIs(t, err, errPollVoteUnreadable)
}

func TestPollVoteOptionsUnknownToTheLogAreHashes(t *testing.T) {
	t.Parallel()
	names, unknown := optionNames(wa.HashPollOptions([]string{"Yes", "Maybe"}), []string{"Yes", "No"})
	require.Equal(t, []string{"Yes"}, names)
	require.Equal(t, []string{hexSHA256("Maybe")}, unknown)
}

func TestGetMessageForRetryFromTheMessageLog(t *testing.T) {
	t.Parallel()
	b := setupPolls(t)
	poll := b.sendPoll(t, true, "Yes", "No")

	// The session runs on another worker now: a fresh client whose cache of
	// recent sends is empty, as after a failover.
	s, _ := open(t, b.d, b.us.ID.String())
	s.messages = b.log
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &conn{s: s, ctx: ctx, cancel: cancel}
	cli, err := c.newClient(b.us)
	require.NoError(t, err)

	got := cli.GetMessageForRetry(*b.voter.ID, b.voterJID, poll)
	require.NotNil(t, got, "the message a recipient asks for again is read from the log")
	payload, err := b.log.SentPayload(ctx, poll)
	require.NoError(t, err)
	var want waE2E.Message
	require.NoError(t, proto.Unmarshal(payload, &want))
	require.True(t, proto.Equal(&want, got))
	require.Equal(t, "When do we meet?", got.GetPollCreationMessage().GetName())
	require.Equal(t, b.pollSecret, got.GetMessageContextInfo().GetMessageSecret(), "the resent poll keeps its secret, or votes on it could not be read")

	require.Nil(t, cli.GetMessageForRetry(*b.voter.ID, b.voterJID, "3EB0000000000000000000"), "a message the log does not keep")
}

func hexSHA256(s string) string {
	return hex.EncodeToString(wa.HashPollOptions([]string{s})[0])
}
