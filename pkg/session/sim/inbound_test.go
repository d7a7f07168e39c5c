package sim_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
)

// Point 2 of issue 16, as the simulator plays it: a message not
// acknowledged is delivered again on the device's next connection, in
// order; an acknowledged one is not.
func TestInboundAtLeastOnceRedeliveredUntilAcked(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, d, ch, jid)
	rec.HoldAcks = true
	cancel := connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)

	control(t, s, sim.ActionInbound, `{"id":"3AFIRST","from":"15550002222","text":"one"}`)
	control(t, s, sim.ActionInbound, `{"id":"3ASECOND","from":"15550002222","text":"two"}`)
	first := sessiontest.Expect[session.Inbound](t, rec, wait)
	second := sessiontest.Expect[session.Inbound](t, rec, wait)
	require.NotNil(t, first.Ack)
	second.Ack(nil) // only the second is recorded

	cancel() // the worker dies
	s2, rec2 := open(t, d, ch, jid)
	rec2.HoldAcks = true
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	again := sessiontest.Expect[session.Inbound](t, rec2, wait)
	require.JSONEq(t, string(first.Data), string(again.Data), "the unacknowledged message comes again")
	rec2.Quiet(t, quiet)
	again.Ack(nil)

	s2.Disconnect()
	s3, rec3 := open(t, d, ch, jid)
	connect(t, s3)
	sessiontest.Expect[session.Connected](t, rec3, wait)
	rec3.Quiet(t, quiet)
}

// An Ack with an error closes the connection so that the message comes
// again, as the whatsmeow driver does.
func TestInboundAtLeastOnceNotRecordedDisconnects(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, d, ch, jid)
	rec.HoldAcks = true
	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	control(t, s, sim.ActionInbound, `{"id":"3AFAIL","from":"15550002222","text":"one"}`)
	in := sessiontest.Expect[session.Inbound](t, rec, wait)
	in.Ack(errors.New("postgres is down"))
	d1 := sessiontest.Expect[session.Disconnected](t, rec, wait)
	require.Equal(t, session.ReasonInboundNotRecorded, d1.Reason)

	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	again := sessiontest.Expect[session.Inbound](t, rec, wait)
	var m session.MessageData
	require.NoError(t, json.Unmarshal(again.Data, &m))
	require.Equal(t, "3AFAIL", m.ID)
}
