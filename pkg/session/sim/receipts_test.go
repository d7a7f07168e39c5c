package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
)

// slowConnect makes every receipt of a send due before a connection made
// after it is up: ConnectDelay 500 ms, receipts after 10 and 30 ms.
func slowConnect(c *sim.Config) { c.ConnectDelay = 50 * time.Second }

// The connection that sent a message dies before its receipts are due (a
// worker killed, a lease lost): the receipts wait for the device's next
// connection, on any worker, and come right after Connected, in order.
// Only acknowledged receipts leave; what was not acknowledged comes again.
func TestReceiptsDueWhileOfflineArriveOnTheNextConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.device(t, ch)
	s1, rec1 := open(t, f.driver(t, slowConnect), ch, jid)
	rec1.HoldAcks = true
	cancel := connect(t, s1)
	sessiontest.Expect[session.Connected](t, rec1, wait)
	_, err := s1.Send(context.Background(), session.Outbound{ID: "msg_offline", To: "15550001111", Type: "audio", Body: []byte(`{"voice":true}`)})
	require.NoError(t, err)
	cancel() // the worker dies; whatever reached it was not acknowledged

	s2, rec2 := open(t, f.driver(t, slowConnect), ch, jid)
	rec2.HoldAcks = true
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	var got []session.Inbound
	for _, status := range []string{"delivered", "read", "played"} {
		ev := sessiontest.Expect[session.Inbound](t, rec2, wait)
		requireReceipt(t, ev, "message."+status, status, "msg_offline", "15550001111@s.whatsapp.net")
		require.NotNil(t, ev.Ack, "a receipt carries its acknowledgement")
		got = append(got, ev)
	}
	rec2.Quiet(t, quiet)
	got[0].Ack(nil) // only delivered is recorded
	s2.Disconnect()
	testenv.Eventually(t, wait, func() bool { return pendingReceipts(t, f, jid) == 2 }, "the acknowledged receipt to be cleared")

	s3, rec3 := open(t, f.driver(t), ch, jid)
	connect(t, s3)
	sessiontest.Expect[session.Connected](t, rec3, wait)
	requireReceipt(t, sessiontest.Expect[session.Inbound](t, rec3, wait), "message.read", "read", "msg_offline", "15550001111@s.whatsapp.net")
	requireReceipt(t, sessiontest.Expect[session.Inbound](t, rec3, wait), "message.played", "played", "msg_offline", "15550001111@s.whatsapp.net")
	rec3.Quiet(t, quiet)
	testenv.Eventually(t, wait, func() bool { return pendingReceipts(t, f, jid) == 0 }, "every receipt to be cleared once acknowledged")
	s3.Disconnect()

	s4, rec4 := open(t, f.driver(t), ch, jid)
	connect(t, s4)
	sessiontest.Expect[session.Connected](t, rec4, wait)
	rec4.Quiet(t, quiet)
}

// A connection that comes up before the receipts are due delivers them
// when they fall due, not at once.
func TestReceiptsNotYetDueAreScheduledOnTheNextConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.device(t, ch)
	later := func(c *sim.Config) { c.DeliveredAfter, c.ReadAfter = 20*time.Second, 40*time.Second }
	s1, rec1 := open(t, f.driver(t, later), ch, jid)
	cancel := connect(t, s1)
	sessiontest.Expect[session.Connected](t, rec1, wait)
	sent := time.Now()
	_, err := s1.Send(context.Background(), session.Outbound{ID: "msg_later", To: "15550001111", Type: "text"})
	require.NoError(t, err)
	cancel()

	s2, rec2 := open(t, f.driver(t, later), ch, jid)
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	delivered := sessiontest.Expect[session.Inbound](t, rec2, wait)
	require.GreaterOrEqual(t, time.Since(sent), scaled(20*time.Second))
	requireReceipt(t, delivered, "message.delivered", "delivered", "msg_later", "15550001111@s.whatsapp.net")
	read := sessiontest.Expect[session.Inbound](t, rec2, wait)
	require.GreaterOrEqual(t, time.Since(sent), scaled(40*time.Second))
	requireReceipt(t, read, "message.read", "read", "msg_later", "15550001111@s.whatsapp.net")
	require.True(t, read.At.After(delivered.At), "each receipt keeps the time the phone sent it")
	rec2.Quiet(t, quiet)
}

// An Ack with an error closes the connection, as for inbound messages,
// and the receipt comes again on the next connection.
func TestReceiptNotRecordedDisconnectsAndComesAgain(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	s, rec, jid := online(t, f, f.driver(t, func(c *sim.Config) { c.ReadAfter = -1 }))
	rec.HoldAcks = true
	_, err := s.Send(context.Background(), session.Outbound{ID: "msg_fail", To: "15550001111", Type: "text"})
	require.NoError(t, err)
	ev := sessiontest.Expect[session.Inbound](t, rec, wait)
	ev.Ack(errors.New("postgres is down"))
	d := sessiontest.Expect[session.Disconnected](t, rec, wait)
	require.Equal(t, session.ReasonInboundNotRecorded, d.Reason)
	require.EqualValues(t, 1, pendingReceipts(t, f, jid))

	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	again := sessiontest.Expect[session.Inbound](t, rec, wait)
	requireReceipt(t, again, "message.delivered", "delivered", "msg_fail", "15550001111@s.whatsapp.net")
	again.Ack(nil)
	testenv.Eventually(t, wait, func() bool { return pendingReceipts(t, f, jid) == 0 }, "the receipt to be cleared")
}

func pendingReceipts(t *testing.T, f *fleet, jid string) int64 {
	t.Helper()
	n, err := sim.PendingReceipts(context.Background(), f.rdb, f.keys, jid)
	require.NoError(t, err)
	return n
}
