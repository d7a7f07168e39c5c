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
)

func TestSendCountsDeliveriesAndReportsReceipts(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	s, rec, _ := online(t, f, f.driver(t))

	sent := time.Now()
	res, err := s.Send(ctx, session.Outbound{ID: "msg_text", To: "+1 555 000 1111", Type: "text", Body: []byte(`{"text":"hi"}`)})
	require.NoError(t, err)
	require.Equal(t, sim.WAID("msg_text"), res.WAID, "the WhatsApp id derives from wagate's")
	require.Regexp(t, `^3EB0[0-9A-F]{16}$`, res.WAID)
	require.False(t, res.Timestamp.IsZero())
	n, err := sim.Deliveries(ctx, f.rdb, f.keys, "msg_text")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	delivered := sessiontest.Expect[session.Inbound](t, rec, wait)
	require.GreaterOrEqual(t, time.Since(sent), scaled(sim.DefaultDeliveredAfter))
	requireReceipt(t, delivered, "message.delivered", "delivered", "msg_text", "15550001111@s.whatsapp.net")
	read := sessiontest.Expect[session.Inbound](t, rec, wait)
	require.GreaterOrEqual(t, time.Since(sent), scaled(sim.DefaultReadAfter))
	requireReceipt(t, read, "message.read", "read", "msg_text", "15550001111@s.whatsapp.net")
	rec.Quiet(t, quiet)

	t.Run("voice notes are played after they are read", func(t *testing.T) {
		_, err := s.Send(ctx, session.Outbound{ID: "msg_voice", To: "15550001111@s.whatsapp.net", Type: "audio",
			Body: []byte(`{"url":"https://example.com/a.ogg","voice":true}`)})
		require.NoError(t, err)
		for _, status := range []string{"delivered", "read", "played"} {
			requireReceipt(t, sessiontest.Expect[session.Inbound](t, rec, wait), "message."+status, status, "msg_voice", "15550001111@s.whatsapp.net")
		}
		rec.Quiet(t, quiet)
	})

	t.Run("every delivery is counted, so a doubled send shows", func(t *testing.T) {
		for range 2 {
			res2, err := s.Send(ctx, session.Outbound{ID: "msg_twice", To: "15550001111", Type: "text"})
			require.NoError(t, err)
			require.Equal(t, sim.WAID("msg_twice"), res2.WAID)
		}
		n, err := sim.Deliveries(ctx, f.rdb, f.keys, "msg_twice")
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		n, err = sim.Deliveries(ctx, f.rdb, f.keys, "msg_never")
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("a send needs an id and a recipient", func(t *testing.T) {
		_, err := s.Send(ctx, session.Outbound{To: "15550001111", Type: "text"})
		require.ErrorIs(t, err, session.ErrInvalid)
		_, err = s.Send(ctx, session.Outbound{ID: "msg_nobody", Type: "text"})
		require.ErrorIs(t, err, session.ErrInvalid)
	})
}

func TestDisconnectStopsPendingReceipts(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	s, rec, _ := online(t, f, f.driver(t, func(c *sim.Config) { c.DeliveredAfter, c.ReadAfter = 10*time.Second, 20*time.Second }))
	_, err := s.Send(context.Background(), session.Outbound{ID: "msg_pending", To: "15550001111", Type: "text"})
	require.NoError(t, err)
	s.Disconnect()
	rec.Quiet(t, scaled(20*time.Second)+quiet)
}

func TestReceiptsCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	for _, tc := range []struct {
		name            string
		delivered, read time.Duration
		statuses        []string
	}{
		{"delivered only", 0, -1, []string{"delivered"}},
		{"none", -1, -1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rec, _ := online(t, f, f.driver(t, func(c *sim.Config) { c.DeliveredAfter, c.ReadAfter = tc.delivered, tc.read }))
			_, err := s.Send(context.Background(), session.Outbound{ID: "msg_" + tc.name, To: "15550001111", Type: "text"})
			require.NoError(t, err)
			for _, status := range tc.statuses {
				require.Equal(t, status, sessiontest.Expect[session.Inbound](t, rec, wait).Status)
			}
			rec.Quiet(t, quiet)
		})
	}
}

func requireReceipt(t *testing.T, ev session.Inbound, typ, status, id, chat string) {
	t.Helper()
	require.Equal(t, typ, ev.Type)
	require.Equal(t, status, ev.Status)
	require.Equal(t, []string{id}, ev.MessageIDs)
	require.False(t, ev.At.IsZero())
	var data session.ReceiptData
	require.NoError(t, json.Unmarshal(ev.Data, &data))
	require.Equal(t, []string{id}, data.IDs)
	require.Equal(t, chat, data.Chat)
	require.Equal(t, status, data.Status)
}
