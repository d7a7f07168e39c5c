package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// publishRaw publishes a command straight to NATS, as an app may.
func (f *fleet) publishRaw(channel, verb, msgID string, body []byte, replyTo string) {
	f.t.Helper()
	msg := &nats.Msg{Subject: f.bus.Names.Cmd(channel, verb), Data: body, Header: nats.Header{}}
	msg.Header.Set(names.HeaderMsgID, msgID)
	if replyTo != "" {
		msg.Header.Set(names.HeaderReplyTo, replyTo)
	}
	_, err := f.bus.JS.PublishMsg(context.Background(), msg)
	require.NoError(f.t, err)
}

// commandFailed awaits the command.failed of msgID among the events of channel.
func (f *fleet) commandFailed(channel, msgID string) worker.CommandFailed {
	f.t.Helper()
	var got worker.CommandFailed
	testenv.Eventually(f.t, 10*time.Second, func() bool {
		for _, ev := range f.events(channel) {
			var d worker.CommandFailed
			if ev.Type == event.CommandFailed && json.Unmarshal(ev.Data, &d) == nil && d.MsgID == msgID {
				got = d
				return true
			}
		}
		return false
	}, "command.failed of %s on %s", msgID, channel)
	return got
}

func TestBadCommandsOnNATSPublishCommandFailed(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("bad-commands")

	t.Run("malformed body", func(t *testing.T) {
		f.publishRaw(ch, command.Start, "bad-body", []byte(`{not json`), "")
		d := f.commandFailed(ch, "bad-body")
		require.Equal(t, worker.CodeMalformedBody, d.Code)
		require.Equal(t, f.bus.Names.Cmd(ch, command.Start), d.Subject)
		require.Equal(t, ch, d.ChannelID)
		require.Equal(t, command.Start, d.Verb)
		require.NotEmpty(t, d.Reason)
	})
	t.Run("body that does not match the verb's schema", func(t *testing.T) {
		f.publishRaw(ch, command.Read, "bad-read", []byte(`{"chat":"15550102030","message_ids":[]}`), "")
		d := f.commandFailed(ch, "bad-read")
		require.Equal(t, worker.CodeInvalidBody, d.Code)
		require.Contains(t, d.Reason, "message_ids")
		f.publishRaw(ch, command.Presence, "bad-typing", []byte(`{"state":"composing"}`), "")
		d = f.commandFailed(ch, "bad-typing")
		require.Equal(t, worker.CodeInvalidBody, d.Code)
		require.Contains(t, d.Reason, "chat")
		f.publishRaw(ch, command.Stop, "bad-stop", []byte(`{"phone":"4915112345678"}`), "")
		require.Equal(t, worker.CodeInvalidBody, f.commandFailed(ch, "bad-stop").Code, "a member no lifecycle command has")
	})
	t.Run("unknown verb", func(t *testing.T) {
		f.publishRaw(ch, "explode", "bad-verb", []byte(`{}`), "")
		d := f.commandFailed(ch, "bad-verb")
		require.Equal(t, worker.CodeUnknownVerb, d.Code)
		require.Equal(t, "explode", d.Verb)
	})
	t.Run("unknown channel, at admin level", func(t *testing.T) {
		nowhere := ids.New(ids.Channel)
		f.publishRaw(nowhere, command.Start, "bad-channel", []byte(`{}`), "")
		d := f.commandFailed(event.AdminChannel, "bad-channel")
		require.Equal(t, worker.CodeUnknownChannel, d.Code)
		require.Equal(t, nowhere, d.ChannelID)
		require.Equal(t, f.bus.Names.Cmd(nowhere, command.Start), d.Subject)
		f.publishRaw(nowhere, command.Send, "bad-channel-send", []byte(`{"to":"15550001111","type":"text","text":"x"}`), "")
		require.Equal(t, worker.CodeUnknownChannel, f.commandFailed(event.AdminChannel, "bad-channel-send").Code)
	})
	t.Run("invalid send", func(t *testing.T) {
		f.publishRaw(ch, command.Send, "bad-send", []byte(`{"to":"012","type":"text","text":"x"}`), "")
		d := f.commandFailed(ch, "bad-send")
		require.Equal(t, worker.CodeInvalidSend, d.Code)
		require.Equal(t, "invalid_recipient", d.ErrorCode)
		var failed worker.MessageStatus
		for _, ev := range f.events(ch) {
			if ev.Type == event.MessageFailed {
				require.NoError(t, json.Unmarshal(ev.Data, &failed))
			}
		}
		require.Equal(t, "bad-send", failed.IdempotencyKey, "message.failed names the key the send was published with")
	})
	t.Run("rejected in the channel's state", func(t *testing.T) {
		f.publishRaw(ch, command.PairPhone, "bad-pair", []byte(`{"phone":"4915112345678"}`), "")
		d := f.commandFailed(ch, "bad-pair")
		require.Equal(t, worker.CodeRejected, d.Code)
		require.Contains(t, d.Reason, "already paired")
	})
}

// A publisher that names an inbox in Wagate-Reply-To gets the outcome of
// its command there: the command.failed data, or "accepted".
func TestCommandsOnNATSAnswerTheReplyInbox(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("replies")
	inbox := nats.NewInbox()
	sub, err := f.bus.Conn.SubscribeSync(inbox)
	require.NoError(t, err)
	defer sub.Unsubscribe() //nolint:errcheck

	f.publishRaw(ch, "explode", "reply-bad", []byte(`{}`), inbox)
	m, err := sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, worker.CodeUnknownVerb, m.Header.Get(names.HeaderError))
	var d worker.CommandFailed
	require.NoError(t, json.Unmarshal(m.Data, &d))
	require.Equal(t, f.commandFailed(ch, "reply-bad"), d, "the reply is the event's data")

	nowhere := ids.New(ids.Channel)
	f.publishRaw(nowhere, command.Stop, "reply-nowhere", []byte(`{}`), inbox)
	m, err = sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, worker.CodeUnknownChannel, m.Header.Get(names.HeaderError))

	f.publishRaw(ch, command.Presence, "reply-ok", []byte(`{"state":"available"}`), inbox)
	m, err = sub.NextMsg(10 * time.Second)
	require.NoError(t, err)
	require.Empty(t, m.Header.Get(names.HeaderError))
	var ok worker.CommandAccepted
	require.NoError(t, json.Unmarshal(m.Data, &ok))
	require.Equal(t, worker.CommandAccepted{Status: "accepted", Subject: f.bus.Names.Cmd(ch, command.Presence), ChannelID: ch, Verb: command.Presence, MsgID: "reply-ok"}, ok)

	// Only inboxes are answered: a header cannot make a worker publish elsewhere.
	forged := f.bus.Names.Evt(ch, event.MessageReceived)
	f.publishRaw(ch, "explode", "reply-forged", []byte(`{}`), forged)
	f.commandFailed(ch, "reply-forged")
	require.Zero(t, countType(f.events(ch), event.MessageReceived), "nothing was published on the forged subject")
}
