package whatsmeow

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
)

// receiptOf is a receipt as whatsmeow's parseReceipt builds it for a
// message we sent to alice: the source of the receipt node, its ids, its
// "t" and its "type" ("" is delivered).
func receiptOf(typ types.ReceiptType, ids ...string) *events.Receipt {
	return &events.Receipt{
		MessageSource: types.MessageSource{Chat: alice, Sender: aliceAD},
		MessageIDs:    ids,
		Timestamp:     sent,
		Type:          typ,
	}
}

// A receipt is acknowledged to WhatsApp (the handler returns true, and
// whatsmeow's deferred ack follows) only after the worker recorded it.
func TestReceiptAckedOnlyAfterRecording(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, receiptOf(types.ReceiptTypeRead, "3EB0A", "3EB0B"))
	in := sessiontest.Expect[session.Inbound](t, rec, time.Second)
	require.Equal(t, event.MessageRead, in.Type)
	require.Equal(t, []string{"3EB0A", "3EB0B"}, in.MessageIDs)
	require.NotNil(t, in.Ack, "a receipt carries its acknowledgement")
	select {
	case <-res:
		t.Fatal("whatsmeow was told the receipt arrived before the worker recorded it")
	case <-time.After(50 * time.Millisecond):
	}
	in.Ack(nil)
	require.True(t, <-res)
	rec.Quiet(t, 50*time.Millisecond)
}

// A receipt the worker could not record is not acknowledged, and the
// connection ends so that WhatsApp delivers it again on the next one.
func TestReceiptNotRecordedIsNotAcked(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, receiptOf(types.ReceiptTypeDelivered, "3EB0A"))
	in := sessiontest.Expect[session.Inbound](t, rec, time.Second)
	require.Equal(t, event.MessageDelivered, in.Type)
	in.Ack(errors.New("postgres is down"))
	require.False(t, <-res)
	d := sessiontest.Expect[session.Disconnected](t, rec, time.Second)
	require.Equal(t, session.ReasonInboundNotRecorded, d.Reason)
	require.Error(t, c.ctx.Err(), "the connection ended, so whatsmeow's deferred ack is not sent")
}

// The worker dies or loses the shard before recording: the connection
// closes, the handler returns false and nothing is acknowledged.
func TestReceiptSessionClosedFirstIsNotAcked(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	res := handled(c, receiptOf(types.ReceiptTypePlayed, "3EB0A"))
	sessiontest.Expect[session.Inbound](t, rec, time.Second)
	c.close()
	require.False(t, <-res)
}

// Receipts wagate does not record (our other devices' reads, retries,
// sender receipts) do not wait.
func TestReceiptsNotRecordedDoNotWait(t *testing.T) {
	t.Parallel()
	c, rec := testConn(t)
	rec.HoldAcks = true
	for _, typ := range []types.ReceiptType{types.ReceiptTypeReadSelf, types.ReceiptTypeSender, types.ReceiptTypeRetry} {
		require.True(t, <-handled(c, receiptOf(typ, "3EB0A")), "type %q", typ)
	}
	rec.Quiet(t, 50*time.Millisecond)
}
