package whatsmeow

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
)

// testConn is a connection without a client, to drive its event handling
// directly.
func testConn(t *testing.T) (*conn, *sessiontest.Recorder) {
	t.Helper()
	rec := sessiontest.NewRecorder()
	d := &Driver{cfg: Config{Now: func() time.Time { return now }, AckTimeout: time.Minute}}
	s := &Session{d: d, channelID: "ch_test", sink: rec, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &conn{s: s, ctx: ctx, cancel: cancel}
	s.conn = c
	return c, rec
}

func codes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "2@code" + string(rune('a'+i))
	}
	return out
}

func TestQRCodesCarryTheirExpiryAndAttempt(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	c.handle(&events.QR{Codes: codes(6)}) // before the QR channel's first code
	ch := make(chan wa.QRChannelItem, 8)
	go c.watchQR(ch)

	ch <- wa.QRChannelItem{Event: wa.QRChannelEventCode, Code: "2@codea", Timeout: 60 * time.Second}
	qr := sessiontest.Expect[session.QR](t, rec, time.Second)
	require.Equal(t, session.QR{Code: "2@codea", ExpiresAt: now.Add(60 * time.Second), Attempt: 1, MaxAttempts: 6}, qr)
	for i := 2; i <= 6; i++ {
		ch <- wa.QRChannelItem{Event: wa.QRChannelEventCode, Code: "2@code", Timeout: 20 * time.Second}
		qr := sessiontest.Expect[session.QR](t, rec, time.Second)
		require.Equal(t, i, qr.Attempt)
		require.Equal(t, 6, qr.MaxAttempts)
		require.Equal(t, now.Add(20*time.Second), qr.ExpiresAt)
	}
	ch <- wa.QRChannelTimeout
	sessiontest.Expect[session.QRTimeout](t, rec, time.Second)
	close(ch)
	rec.Quiet(t, 100*time.Millisecond)
}

func TestQRTimeoutAfterADisconnectIsTheDisconnect(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	c.handle(&events.QR{Codes: codes(6)})
	ch := make(chan wa.QRChannelItem, 8)
	go c.watchQR(ch)
	ch <- wa.QRChannelItem{Event: wa.QRChannelEventCode, Code: "2@codea", Timeout: 60 * time.Second}
	sessiontest.Expect[session.QR](t, rec, time.Second)

	// The server closed the socket during the first code: whatsmeow sends
	// Disconnected to the handlers and "timeout" down the QR channel.
	c.handle(&events.Disconnected{})
	ch <- wa.QRChannelTimeout
	sessiontest.Expect[session.Disconnected](t, rec, time.Second)
	rec.Quiet(t, 100*time.Millisecond)
}

func TestPairingThenStreamRestartThenConnected(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	jid := types.NewADJID("15559990000", 0, 14)
	c.handle(&events.PairSuccess{ID: jid, Platform: "android"})
	ps := sessiontest.Expect[session.PairSuccess](t, rec, time.Second)
	require.Equal(t, "15559990000:14@s.whatsapp.net", ps.JID)
	require.Equal(t, "15559990000", ps.Phone)
	require.Equal(t, jid, c.s.jid, "a later Connect logs in with the new device")

	// The stream restart (515) closes the socket: expected, not reported.
	c.handle(&events.ManualLoginReconnect{})
	c.handle(&events.Disconnected{})
	rec.Quiet(t, 100*time.Millisecond)
	c.handle(&events.Connected{})
	sessiontest.Expect[session.Connected](t, rec, time.Second)

	// Once connected, a disconnection is reported again, and ends the
	// connection: nothing follows it.
	c.handle(&events.Disconnected{})
	sessiontest.Expect[session.Disconnected](t, rec, time.Second)
	require.Error(t, c.ctx.Err())
	c.handle(&events.Connected{})
	rec.Quiet(t, 100*time.Millisecond)
}

func TestLoggedOutForgetsTheDevice(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	c.s.jid = types.NewADJID("15559990000", 0, 14)
	c.handle(&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut})
	sessiontest.Expect[session.LoggedOut](t, rec, time.Second)
	require.True(t, c.s.jid.IsEmpty())
	require.ErrorIs(t, c.s.Logout(context.Background()), session.ErrNotPaired)
}

func TestNothingIsEmittedAfterClose(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	c.close()
	c.handle(&events.Connected{})
	c.handle(&events.Message{})
	rec.Quiet(t, 100*time.Millisecond)
}
