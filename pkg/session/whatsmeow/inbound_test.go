package whatsmeow

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
)

// handled runs the handler on evt as whatsmeow's node goroutine does and
// returns its success status.
func handled(c *conn, evt any) <-chan bool {
	out := make(chan bool, 1)
	go func() { out <- c.handle(evt) }()
	return out
}

func text(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }

// Point 2 of issue 16: a received message is acknowledged to WhatsApp (the
// handler returns true) only after the worker recorded it.
func TestInboundAtLeastOnceAckAfterRecording(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, msgEvent(alice, text("hello")))
	in := sessiontest.Expect[session.Inbound](t, rec, time.Second)
	require.Equal(t, event.MessageReceived, in.Type)
	require.NotNil(t, in.Ack, "a received message carries its acknowledgement")
	select {
	case <-res:
		t.Fatal("whatsmeow was told the message arrived before the worker recorded it")
	case <-time.After(50 * time.Millisecond):
	}
	in.Ack(nil)
	require.True(t, <-res)
	rec.Quiet(t, 50*time.Millisecond)
}

// A message the worker could not record is not acknowledged, and the
// connection ends so that the worker reconnects and WhatsApp delivers it
// again.
func TestInboundAtLeastOnceNotRecordedIsNotAcked(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, msgEvent(alice, text("hello")))
	in := sessiontest.Expect[session.Inbound](t, rec, time.Second)
	in.Ack(errors.New("postgres is down"))
	require.False(t, <-res)
	d := sessiontest.Expect[session.Disconnected](t, rec, time.Second)
	require.Equal(t, session.ReasonInboundNotRecorded, d.Reason)
	require.Error(t, c.ctx.Err(), "the connection ended")
}

// A worker that dies (or loses the lease) between receiving and recording
// closes the session: the handler returns false and nothing is acked.
func TestInboundAtLeastOnceSessionClosedFirst(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, msgEvent(alice, text("hello")))
	sessiontest.Expect[session.Inbound](t, rec, time.Second)
	c.close()
	require.False(t, <-res)
}

// A worker that never answers: after AckTimeout the message is left
// unacknowledged and the connection ends.
func TestInboundAtLeastOnceAckTimeout(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	c.s.d.cfg.AckTimeout = 20 * time.Millisecond
	rec.HoldAcks = true
	res := handled(c, msgEvent(alice, text("hello")))
	sessiontest.Expect[session.Inbound](t, rec, time.Second)
	require.False(t, <-res)
	d := sessiontest.Expect[session.Disconnected](t, rec, time.Second)
	require.Equal(t, session.ReasonInboundNotRecorded, d.Reason)
}

// Presence and other events do not wait: whatsmeow acks them as before
// (receipts wait, see receipts_test.go).
func TestInboundAtLeastOnceOtherEventsDoNotWait(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	require.True(t, <-handled(c, &events.Presence{From: alice}))
	in := sessiontest.Expect[session.Inbound](t, rec, time.Second)
	require.Equal(t, event.PresenceUpdated, in.Type)
	require.Nil(t, in.Ack)
}

// The clients the driver makes acknowledge messages only after the
// handler and keep decrypted messages in the store until then.
func TestInboundAtLeastOnceClientSettings(t *testing.T) {
	t.Parallel()
	d := &Driver{cfg: Config{}.WithDefaults()}
	d.ws = d.cfg.MediaHTTPClient
	cli, err := d.newClient(&store.Device{}, newWALogger(d.cfg.Logger, false), "")
	require.NoError(t, err)
	require.True(t, cli.SynchronousAck)
	require.True(t, cli.EnableDecryptedEventBuffer)
}
