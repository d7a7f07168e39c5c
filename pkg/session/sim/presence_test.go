package sim_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
)

// Point 6 of issue 16, as WhatsApp does it: typing reaches the account only
// while it is available; a contact's online status only while it is
// available and subscribed to the contact; both are forgotten with the
// connection.
func TestPresenceReachesAnAvailableSubscribedAccount(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)
	s, rec, _ := online(t, f, d)
	ss := s.(*sim.Session)
	ctx := context.Background()
	const bob = "15550003333"

	require.JSONEq(t, `{"delivered":false}`, string(control(t, s, sim.ActionPresence, `{"from":"`+bob+`","state":"composing"}`)), "not available yet")

	require.NoError(t, ss.SendPresence(ctx, "available", ""))
	require.JSONEq(t, `{"delivered":true}`, string(control(t, s, sim.ActionPresence, `{"from":"`+bob+`","state":"recording"}`)))
	ev := sessiontest.Expect[session.Inbound](t, rec, wait)
	require.Equal(t, event.ChatPresence, ev.Type)
	var cp session.ChatPresenceData
	require.NoError(t, json.Unmarshal(ev.Data, &cp))
	require.Equal(t, "recording", cp.State)

	require.JSONEq(t, `{"delivered":false}`, string(control(t, s, sim.ActionPresence, `{"from":"`+bob+`","state":"available"}`)), "not subscribed")
	require.NoError(t, ss.SubscribePresence(ctx, "+"+bob))
	require.JSONEq(t, `{"delivered":true}`, string(control(t, s, sim.ActionPresence, `{"from":"`+bob+`","state":"unavailable"}`)))
	ev = sessiontest.Expect[session.Inbound](t, rec, wait)
	require.Equal(t, event.PresenceUpdated, ev.Type)
	var p session.PresenceData
	require.NoError(t, json.Unmarshal(ev.Data, &p))
	require.Equal(t, "15550003333@s.whatsapp.net", p.From)
	require.Equal(t, "unavailable", p.State)

	require.ErrorIs(t, ss.SubscribePresence(ctx, "120363000000000001@g.us"), session.ErrInvalid, "groups have no presence")

	// A new connection starts unavailable and unsubscribed.
	s.Disconnect()
	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	require.JSONEq(t, `{"delivered":false}`, string(control(t, s, sim.ActionPresence, `{"from":"`+bob+`","state":"composing"}`)))
}
