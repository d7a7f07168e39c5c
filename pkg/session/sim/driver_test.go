package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestNewValidatesTheConfig(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	for _, tc := range []struct {
		name string
		edit func(*sim.Config)
		want string
	}{
		{"without a store", func(c *sim.Config) { c.Store = nil }, "missing Store"},
		{"without redis", func(c *sim.Config) { c.Redis = nil }, "missing Redis"},
		{"with a negative time scale", func(c *sim.Config) { c.TimeScale = -1 }, "negative TimeScale"},
		{"with a presence TTL too short to refresh", func(c *sim.Config) { c.PresenceTTL = time.Millisecond }, "presence TTL"},
		{"with read receipts before delivered ones", func(c *sim.Config) { c.ReadAfter = time.Millisecond }, "ReadAfter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.config()
			tc.edit(&cfg)
			_, err := sim.New(cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
	d, err := sim.New(f.config())
	require.NoError(t, err)
	require.Equal(t, "sim", d.Name())

	def := sim.Config{}.WithDefaults()
	require.Equal(t, 1.0, def.TimeScale)
	require.Equal(t, 3*time.Second, def.PresenceTTL)
	require.Equal(t, 300*time.Millisecond, def.ConnectDelay)
	require.Equal(t, time.Second, def.DeliveredAfter)
	require.Equal(t, 3*time.Second, def.ReadAfter)
}

func TestOpenNeedsAChannelAndASink(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t)
	_, err := d.Open(context.Background(), session.Options{Sink: sessiontest.NewRecorder()})
	require.ErrorIs(t, err, session.ErrInvalid)
	_, err = d.Open(context.Background(), session.Options{ChannelID: "ch_x"})
	require.ErrorIs(t, err, session.ErrInvalid)
}

func TestDoubleConnectionAcrossDrivers(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	d1, d2 := f.driver(t), f.driver(t) // two workers

	s1, rec1, jid := online(t, f, d1)
	ch := channelOf(t, f, jid)
	held := f.marker(t, jid)
	require.NotEmpty(t, held)

	s2, rec2 := open(t, d2, ch, jid)
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	n, err := sim.DoubleConnections(ctx, f.rdb, f.keys)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "two live connections of one device are counted")
	require.NotEqual(t, held, f.marker(t, jid), "the newer connection holds the marker")

	// Like WhatsApp, the older connection is replaced; the other driver
	// notices at its next refresh.
	start := time.Now()
	sessiontest.Expect[session.StreamReplaced](t, rec1, wait)
	require.Less(t, time.Since(start), presenceTTL+quiet)
	_, err = s1.Send(ctx, session.Outbound{ID: "m1", To: "15550001111", Type: "text"})
	require.ErrorIs(t, err, session.ErrNotConnected)
	rec2.Quiet(t, quiet)
	require.NotEmpty(t, f.marker(t, jid), "the loser does not delete the winner's marker")

	// A clean hand-over is not a double connection.
	s2.Disconnect()
	require.Empty(t, f.marker(t, jid))
	connect(t, s1)
	sessiontest.Expect[session.Connected](t, rec1, wait)
	n, err = sim.DoubleConnections(ctx, f.rdb, f.keys)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

func TestDoubleConnectionInOneDriver(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t, func(c *sim.Config) { c.PresenceTTL = time.Minute }) // no refresh during the test
	_, rec1, jid := online(t, f, d)

	s2, rec2 := open(t, d, channelOf(t, f, jid), jid)
	connect(t, s2)
	sessiontest.Expect[session.StreamReplaced](t, rec1, wait) // at once, not at the next refresh
	sessiontest.Expect[session.Connected](t, rec2, wait)
	n, err := sim.DoubleConnections(context.Background(), f.rdb, f.keys)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

func TestMarkersOutliveTheirTTLWhileConnected(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)
	s, _, jid := online(t, f, d)
	held := f.marker(t, jid)
	time.Sleep(3 * presenceTTL) // the refresh loop must keep the marker alive
	require.Equal(t, held, f.marker(t, jid))

	s.Disconnect()
	require.Empty(t, f.marker(t, jid))
}

func TestCancellingReleasesTheMarker(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, f.driver(t), ch, jid)
	cancel := connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)

	cancel()
	testenv.Eventually(t, wait, func() bool { return f.marker(t, jid) == "" }, "marker released after cancel")
	rec.Quiet(t, quiet)
	_, err := s.Send(context.Background(), session.Outbound{ID: "m1", To: "15550001111", Type: "text"})
	require.ErrorIs(t, err, session.ErrNotConnected)
}

// channelOf returns the channel a stored device is linked to.
func channelOf(t *testing.T, f *fleet, jid string) string {
	t.Helper()
	dev, err := f.st.SimDevice(context.Background(), jid)
	require.NoError(t, err)
	return dev.ChannelID
}

func TestReconnectRightAfterCancel(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, f.driver(t), ch, jid)
	for range 5 {
		cancel := connect(t, s)
		sessiontest.Expect[session.Connected](t, rec, wait)
		cancel()
	}
	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	n, err := sim.DoubleConnections(context.Background(), f.rdb, f.keys)
	require.NoError(t, err)
	require.Zero(t, n, "a cancelled connection is closed before the next one")
	require.NotEmpty(t, f.marker(t, jid))
}
