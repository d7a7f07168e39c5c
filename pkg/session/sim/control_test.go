package sim_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
)

func TestPhoneSideEvents(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	s, rec, _ := online(t, f, f.driver(t))
	require.NoError(t, s.(*sim.Session).SendPresence(context.Background(), "available", ""), "typing reaches an available account only")

	for _, tc := range []struct {
		name, action, args string
		typ                string
		check              func(t *testing.T, ev session.Inbound, res json.RawMessage)
	}{
		{
			name: "a text message", action: sim.ActionInbound, typ: "message.received",
			args: `{"from":"+1 555 000 2222","text":"hello","push_name":"Bob"}`,
			check: func(t *testing.T, ev session.Inbound, res json.RawMessage) {
				var m session.MessageData
				require.NoError(t, json.Unmarshal(ev.Data, &m))
				require.Regexp(t, `^3A[0-9A-F]{18}$`, m.ID)
				require.JSONEq(t, `{"id":"`+m.ID+`"}`, string(res), "the control returns the message id")
				require.Equal(t, "15550002222@s.whatsapp.net", m.From)
				require.Equal(t, m.From, m.Chat, "a direct chat is the sender's")
				require.False(t, m.FromMe)
				require.Equal(t, "text", m.Type)
				require.Equal(t, "hello", m.Text)
				require.Equal(t, "Bob", m.PushName)
				require.False(t, m.Timestamp.IsZero())
				var raw map[string]any
				require.NoError(t, json.Unmarshal(ev.Data, &raw))
				require.Contains(t, raw, "from_me")
			},
		},
		{
			name: "a group message with its own id", action: sim.ActionInbound, typ: "message.received",
			args: `{"id":"3AFIXED","from":"15550002222","chat":"120363000000000001@g.us","text":"hi all"}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var m session.MessageData
				require.NoError(t, json.Unmarshal(ev.Data, &m))
				require.Equal(t, "3AFIXED", m.ID)
				require.Equal(t, "120363000000000001@g.us", m.Chat)
				require.Equal(t, "15550002222@s.whatsapp.net", m.From)
			},
		},
		{
			name: "a read receipt", action: sim.ActionReceipt, typ: "message.read",
			args: `{"id":"msg_1","from":"15550002222"}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				require.Equal(t, []string{"msg_1"}, ev.MessageIDs)
				require.Equal(t, "read", ev.Status)
			},
		},
		{
			name: "a delivered receipt", action: sim.ActionReceipt, typ: "message.delivered",
			args: `{"id":"msg_2","status":"delivered"}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				require.Equal(t, "delivered", ev.Status)
			},
		},
		{
			name: "a reaction", action: sim.ActionReaction, typ: "message.reaction",
			args: `{"from":"15550002222","id":"3EB0AAAA","emoji":"👍"}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var r session.ReactionData
				require.NoError(t, json.Unmarshal(ev.Data, &r))
				require.Equal(t, "3EB0AAAA", r.MessageID)
				require.Equal(t, "👍", r.Emoji)
			},
		},
		{
			name: "typing", action: sim.ActionPresence, typ: "chat.presence",
			args: `{"from":"15550002222","state":"composing"}`,
			check: func(t *testing.T, ev session.Inbound, res json.RawMessage) {
				var p session.ChatPresenceData
				require.NoError(t, json.Unmarshal(ev.Data, &p))
				require.Equal(t, "composing", p.State)
				require.Equal(t, "15550002222@s.whatsapp.net", p.Chat)
				require.JSONEq(t, `{"delivered":true}`, string(res))
			},
		},
		{
			name: "a call", action: sim.ActionCall, typ: "call.received",
			args: `{"from":"15550002222","video":true}`,
			check: func(t *testing.T, ev session.Inbound, res json.RawMessage) {
				var c session.CallData
				require.NoError(t, json.Unmarshal(ev.Data, &c))
				require.Equal(t, "15550002222@s.whatsapp.net", c.From)
				require.True(t, c.Video)
				require.Equal(t, "offer", c.Status, "a call rings first, as the whatsmeow driver reports")
				require.JSONEq(t, `{"id":"`+c.ID+`"}`, string(res))
			},
		},
		{
			name: "a group call", action: sim.ActionCall, typ: "call.received",
			args: `{"id":"C0FFEE","from":"15550002222","group":"120363000000000001@g.us","video":true}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var c session.CallData
				require.NoError(t, json.Unmarshal(ev.Data, &c))
				require.Equal(t, session.CallData{ID: "C0FFEE", From: "15550002222@s.whatsapp.net", Group: "120363000000000001@g.us",
					Video: true, Status: "offer_notice", Timestamp: c.Timestamp}, c)
			},
		},
		{
			name: "a call that ended", action: sim.ActionCall, typ: "call.received",
			args: `{"id":"C0FFEE","from":"15550002222","status":"terminate","reason":"timeout","video":true}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var c session.CallData
				require.NoError(t, json.Unmarshal(ev.Data, &c))
				require.Equal(t, session.CallData{ID: "C0FFEE", From: "15550002222@s.whatsapp.net", Status: "terminate", Reason: "timeout",
					Timestamp: c.Timestamp}, c, "only an offer tells video, as WhatsApp")
			},
		},
		{
			name: "a group created", action: sim.ActionGroup, typ: "group.created",
			args: `{"event":"created","name":"Team","participants":["15550002222","15550003333@s.whatsapp.net"],"by":"15550002222"}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var g session.GroupData
				require.NoError(t, json.Unmarshal(ev.Data, &g))
				require.Regexp(t, `^120363\d{12}@g\.us$`, g.Group)
				require.Equal(t, "Team", g.Name)
				require.Equal(t, []string{"15550002222@s.whatsapp.net", "15550003333@s.whatsapp.net"}, g.Participants)
			},
		},
		{
			name: "a member removed", action: sim.ActionGroup, typ: "group.member_removed",
			args: `{"event":"member_removed","group":"120363000000000001@g.us","participants":["15550002222"]}`,
			check: func(t *testing.T, ev session.Inbound, _ json.RawMessage) {
				var g session.GroupData
				require.NoError(t, json.Unmarshal(ev.Data, &g))
				require.Equal(t, "120363000000000001@g.us", g.Group)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := control(t, s, tc.action, tc.args)
			ev := sessiontest.Expect[session.Inbound](t, rec, wait)
			require.Equal(t, tc.typ, ev.Type)
			tc.check(t, ev, res)
		})
	}

	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct{ name, action, args string }{
			{"an unknown action", "explode", ""},
			{"an unknown argument", sim.ActionInbound, `{"from":"15550002222","txt":"typo"}`},
			{"arguments that are not an object", sim.ActionInbound, `[1]`},
			{"a message without a sender", sim.ActionInbound, `{"text":"hi"}`},
			{"a receipt without an id", sim.ActionReceipt, `{}`},
			{"a receipt of an unknown status", sim.ActionReceipt, `{"id":"m","status":"seen"}`},
			{"an unknown group event", sim.ActionGroup, `{"event":"exploded"}`},
			{"a group that is not a group", sim.ActionGroup, `{"event":"updated","group":"15550002222@s.whatsapp.net"}`},
			{"an unknown presence", sim.ActionPresence, `{"from":"15550002222","state":"asleep"}`},
			{"a ban without time", sim.ActionBan, `{"seconds":-5}`},
			{"a call of an unknown status", sim.ActionCall, `{"from":"15550002222","status":"missed"}`},
			{"a call's reason before it ended", sim.ActionCall, `{"from":"15550002222","status":"accept","reason":"timeout"}`},
			{"a group call outside a group", sim.ActionCall, `{"from":"15550002222","group":"15550003333@s.whatsapp.net"}`},
		} {
			_, err := controlErr(s, tc.action, tc.args)
			require.ErrorIs(t, err, session.ErrInvalid, tc.name)
		}
		rec.Quiet(t, quiet)
	})
}

func TestServerSideControls(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)
	for _, tc := range []struct {
		name, action, args string
		check              func(t *testing.T, ev session.Event, jid string)
	}{
		{
			name: "the server closes the connection", action: sim.ActionDisconnect,
			check: func(t *testing.T, ev session.Event, _ string) {
				require.Equal(t, session.Disconnected{Reason: "connection_closed"}, ev)
			},
		},
		{
			name: "the phone unlinks the device", action: sim.ActionLogout,
			check: func(t *testing.T, ev session.Event, jid string) {
				require.Equal(t, session.LoggedOut{Reason: "logged_out_from_phone"}, ev)
				_, err := f.st.SimDevice(context.Background(), jid)
				require.ErrorIs(t, err, store.ErrNotFound, "the device is deleted")
			},
		},
		{
			name: "a temporary ban", action: sim.ActionBan, args: `{"seconds":120}`,
			check: func(t *testing.T, ev session.Event, _ string) {
				ban, ok := ev.(session.TemporaryBan)
				require.True(t, ok, "%T", ev)
				require.Equal(t, "101", ban.Code)
				require.WithinDuration(t, time.Now().Add(120*time.Second), ban.Until, 5*time.Second)
			},
		},
		{
			name: "another client took over", action: sim.ActionStreamReplaced,
			check: func(t *testing.T, ev session.Event, _ string) {
				require.Equal(t, session.StreamReplaced{}, ev)
			},
		},
		{
			name: "the connection fails", action: sim.ActionConnectFailure, args: `{"reason":"503","message":"service unavailable","retryable":true}`,
			check: func(t *testing.T, ev session.Event, _ string) {
				require.Equal(t, session.ConnectFailure{Reason: "503", Message: "service unavailable", Retryable: true}, ev)
			},
		},
		{
			name: "the client is outdated", action: sim.ActionClientOutdated,
			check: func(t *testing.T, ev session.Event, _ string) {
				require.Equal(t, session.ClientOutdated{}, ev)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, rec, jid := online(t, f, d)
			control(t, s, tc.action, tc.args)
			tc.check(t, rec.Next(t, wait), jid)
			rec.Quiet(t, quiet)
			require.Empty(t, f.marker(t, jid), "the connection is closed")
			_, err := s.Send(context.Background(), session.Outbound{ID: "m", To: "15550001111", Type: "text"})
			require.ErrorIs(t, err, session.ErrNotConnected)
			_, err = controlErr(s, tc.action, tc.args)
			require.Error(t, err, "nothing to act on any more")
			_, err = controlErr(s, sim.ActionInbound, `{"from":"15550002222","text":"late"}`)
			require.ErrorIs(t, err, session.ErrNotConnected)
		})
	}
}

func TestPhoneLogoutWhileOffline(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, f.driver(t), ch, jid)
	control(t, s, sim.ActionLogout, "")
	rec.Quiet(t, quiet)
	connect(t, s)
	out := sessiontest.Expect[session.LoggedOut](t, rec, wait) // told on the next connection
	require.Equal(t, "device_missing", out.Reason)
}

func TestActions(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"ban", "call", "chat", "client_outdated", "connect_failure", "contact", "disconnect", "group", "inbound",
		"logout", "presence", "reaction", "receipt", "retry_receipt", "scan", "send_failure", "stream_replaced", "vote"}, sim.Actions())
}
