package schemas_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/media"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/webhook"
	"github.com/wagate/wagate/pkg/worker"
)

// eventTypeConstants reads every string constant of pkg/event/event.go,
// so a new event type without a schema fails here rather than in the
// first test that happens to publish it.
func eventTypeConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../pkg/event/event.go", nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				out[name.Name] = v
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

func TestEveryEventTypeHasASchema(t *testing.T) {
	t.Parallel()
	v := validator(t)
	for name, typ := range eventTypeConstants(t) {
		require.Contains(t, v.EventTypes(), typ, "event.%s (%q) has no schemas/events/%s.json", name, typ, typ)
	}
}

// TestDriverEventsValidate encodes the data types the drivers and the
// dispatcher publish, as they fill them, and checks each against its
// schema.
func TestDriverEventsValidate(t *testing.T) {
	t.Parallel()
	v := validator(t)
	now := time.Now().UTC()
	earlier := now.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		typ  string
		data any
	}{
		{"webhook disabled by a 410", event.WebhookDisabled, webhook.DisabledData{
			EndpointID: "wh_01jx8m4q7k2v9c3e5f6g7h8j9k", URL: "https://example.com/hooks", Reason: "receiver answered 410 Gone", DisabledAt: now}},
		{"webhook disabled after failing", event.WebhookDisabled, webhook.DisabledData{
			EndpointID: "wh_01jx8m4q7k2v9c3e5f6g7h8j9k", URL: "https://example.com/hooks", Reason: "failing without a success since …", FailingSince: &earlier, DisabledAt: now}},

		{"command failed: invalid send", event.CommandFailed, worker.CommandFailed{Subject: "wa.cmd.ch_01jx8m4q7k2v9c3e5f6g7h8j9k.send", ChannelID: "ch_01jx8m4q7k2v9c3e5f6g7h8j9k",
			Verb: "send", MsgID: "order-17", Code: worker.CodeInvalidSend, Reason: "to: not a phone number", ErrorCode: "invalid_recipient", At: now}},
		{"command failed: malformed subject", event.CommandFailed, worker.CommandFailed{Subject: "wa.cmdp.3.x", Code: worker.CodeMalformedSubject, Reason: "the subject is not wa.cmd.<channel>.<verb>", At: now}},
		{"message failed with its key", event.MessageFailed, worker.MessageStatus{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", Status: "failed",
			Reason: "to: not a phone number", Code: "invalid_recipient", IdempotencyKey: "order-17", At: now}},
		{"status changed with a dial error", event.ConnectionStatusChanged, event.StatusChanged{From: "connecting", To: "error", Reason: "whatsapp_unreachable",
			Detail: "dns: dial tcp: lookup web.whatsapp.com: no such host", At: now}},

		{"media stored", event.MessageMediaStored, worker.MediaStoredData{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", ID: "3EB0A1", Chat: "15550102030@s.whatsapp.net",
			Media: media.Info{MIME: "image/png", Size: 1234, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", URL: media.Path("ch_01jx8m4q7k2v9c3e5f6g7h8j9k", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "stored"}}},
		{"media failed for good", event.MessageMediaFailed, worker.MediaFailedData{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", ID: "3EB0A1", Chat: "15550102030@s.whatsapp.net",
			Code: worker.MediaCodeGone, Reason: "session: media no longer available on the phone",
			Media: media.Info{MIME: "audio/ogg", Size: 1234, URL: media.Path("ch_01jx8m4q7k2v9c3e5f6g7h8j9k", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "expired"}}},
		{"image sent with its file", event.MessageSent, worker.MessageStatus{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", WAID: "3EB0A1", Chat: "15550102030@s.whatsapp.net",
			Type: "audio", Status: "sent", At: now, Media: &media.Info{MIME: "audio/ogg; codecs=opus", Size: 1234, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				URL: media.Path("ch_01jx8m4q7k2v9c3e5f6g7h8j9k", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "stored", Seconds: 4, Waveform: make([]int, 64)}}},
		{"sim image received", event.MessageReceived, map[string]any{"id": "3EB0A1", "message_id": "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", "chat": "15550102030@s.whatsapp.net",
			"from": "15550102030@s.whatsapp.net", "type": "image", "timestamp": now, "media": media.Info{MIME: "image/png", Size: 1234,
				URL: media.Path("ch_01jx8m4q7k2v9c3e5f6g7h8j9k", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "pending"}}},
		{"chat archived and muted until unmuted", event.ChatUpdated, chats.Updated{Chat: "15550102030@s.whatsapp.net", ChatLID: "203010555051@lid", Archived: true,
			MutedUntil: &chats.Forever, Changed: []string{"archived", "muted_until"}, Timestamp: now}},
		{"chat marked unread", event.ChatUpdated, chats.Updated{Chat: "1203630252@g.us", UnreadCount: 1, Changed: []string{"read"}, Timestamp: now}},

		{"sim reaction", event.MessageReaction, session.ReactionData{ID: "3EB0A1", MessageID: "3EB0A0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", Emoji: "👍", Timestamp: now}},
		{"sim reaction removed", event.MessageReaction, session.ReactionData{ID: "3EB0A1", MessageID: "3EB0A0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", Timestamp: now}},
		{"sim poll vote", event.MessagePollVote, session.PollVoteData{ID: "3EB0B1", MessageID: "3EB0B0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", Selected: []string{"Monday"}, Timestamp: now}},
		{"sim poll vote withdrawn", event.MessagePollVote, session.PollVoteData{ID: "3EB0B1", MessageID: "3EB0B0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", Selected: []string{}, Timestamp: now}},
		{"whatsmeow poll vote", event.MessagePollVote, session.PollVoteData{ID: "3EB0B1", MessageID: "3EB0B0", Chat: "1203630252@g.us", From: "15550102030@s.whatsapp.net", FromLID: "98765432101234@lid", Selected: []string{"Yes"}, Unknown: []string{"ab12"}, Timestamp: now}},
		{"sim presence", event.PresenceUpdated, session.PresenceData{From: "15550102030@s.whatsapp.net", State: "available", Timestamp: now}},
		{"sim typing", event.ChatPresence, session.ChatPresenceData{Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", State: "composing", Timestamp: now}},

		{"whatsmeow reaction", event.MessageReaction, session.ReactionData{ID: "3EB0A1", MessageID: "3EB0A0", Chat: "1203630252@g.us", From: "15550102030@s.whatsapp.net", FromMe: true, Emoji: "❤️", Timestamp: now}},
		{"whatsmeow edit", event.MessageEdited, session.EditData{ID: "3EB0A2", MessageID: "3EB0A0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", Text: "fixed", Timestamp: now}},
		{"whatsmeow delete", event.MessageDeleted, session.DeleteData{ID: "3EB0A3", MessageID: "3EB0A0", Chat: "15550102030@s.whatsapp.net", From: "15550102030@s.whatsapp.net", FromMe: true, Timestamp: now}},
		{"whatsmeow online", event.PresenceUpdated, session.PresenceData{From: "15550102030@s.whatsapp.net", State: "unavailable", LastSeen: &earlier, Timestamp: now}},
		{"whatsmeow typing", event.ChatPresence, session.ChatPresenceData{From: "15550102030@s.whatsapp.net", Chat: "1203630252@g.us", State: "recording", Timestamp: now}},
		{"whatsmeow call offer", event.CallReceived, session.CallData{ID: "C0FFEE", From: "15550102030@s.whatsapp.net", Video: true, Status: "offer", Timestamp: now}},
		{"whatsmeow group call ended", event.CallReceived, session.CallData{ID: "C0FFEE", From: "15550102030@s.whatsapp.net", Group: "1203630252@g.us", Status: "terminate", Reason: "timeout", Timestamp: now}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, v.ValidateEvent(sampleEvent(t, tc.typ, tc.data)))
		})
	}

	for _, tc := range []struct {
		name string
		typ  string
		data any
	}{
		{"webhook disabled without endpoint", event.WebhookDisabled, map[string]any{"url": "https://example.com", "reason": "x", "disabled_at": now}},
		{"reaction without the message reacted to", event.MessageReaction, map[string]any{"id": "A", "chat": "c", "from": "f", "emoji": "", "timestamp": now}},
		{"call without what happened", event.CallReceived, map[string]any{"id": "C0FFEE", "from": "15550102030@s.whatsapp.net", "video": false, "timestamp": now}},
		{"unknown presence state", event.PresenceUpdated, session.PresenceData{From: "15550102030@s.whatsapp.net", State: "asleep", Timestamp: now}},
		{"media with an unknown status", event.MessageMediaStored, worker.MediaStoredData{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", Chat: "c",
			Media: media.Info{MIME: "image/png", URL: media.Path("ch_x", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "downloading"}}},
		{"media failed without a code", event.MessageMediaFailed, worker.MediaFailedData{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", Chat: "c", Reason: "x",
			Media: media.Info{MIME: "image/png", URL: media.Path("ch_x", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "failed"}}},
		{"sent waveform of 3 values", event.MessageSent, worker.MessageStatus{MessageID: "msg_01jx8m4q7k2v9c3e5f6g7h8j9k", Chat: "c", Type: "audio", Status: "sent", At: now,
			Media: &media.Info{MIME: "audio/ogg", URL: media.Path("ch_x", "msg_01jx8m4q7k2v9c3e5f6g7h8j9k"), Status: "stored", Waveform: []int{1, 2, 3}}}},
		{"chat update naming no change", event.ChatUpdated, chats.Updated{Chat: "1203630252@g.us", Changed: []string{}, Timestamp: now}},
		{"typing as an online status", event.PresenceUpdated, session.PresenceData{From: "15550102030@s.whatsapp.net", State: "composing", Timestamp: now}},
		{"typing without its chat", event.ChatPresence, map[string]any{"from": "15550102030@s.whatsapp.net", "state": "composing", "timestamp": now}},
		{"unknown call status", event.CallReceived, session.CallData{ID: "C", From: "f", Status: "ringing", Timestamp: now}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			require.Error(t, v.ValidateEvent(sampleEvent(t, tc.typ, tc.data)))
		})
	}
}
