package whatsmeow

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

// wait bounds every wait for an event: a connection attempt without a
// route to WhatsApp ends well within it.
const wait = 10 * time.Second

// fleet is a database shared by the drivers of a test, as by the workers
// of a fleet; each driver has a pool of its own, as in its own process.
type fleet struct {
	dsn string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	_, dsn := testenv.Store(t, 4)
	return &fleet{dsn: dsn}
}

func (f *fleet) driver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), f.dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	cfg.Pool = pool
	if cfg.VersionCheck == nil {
		off := false // no internet in tests
		cfg.VersionCheck = &off
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// storeDevice saves a linked device, as pairing would, and returns its JID.
func storeDevice(t *testing.T, c *sqlstore.Container) types.JID {
	t.Helper()
	dev := c.NewDevice()
	jid := types.NewADJID(fmt.Sprintf("1555%07d", rand.IntN(10_000_000)), 0, uint8(1+rand.IntN(90)))
	dev.ID = &jid
	dev.PushName = "Test Shop"
	dev.Platform = "android"
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte("details"), AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	require.NoError(t, dev.Save(context.Background()))
	return jid
}

func open(t *testing.T, d *Driver, jid string) (*Session, *sessiontest.Recorder) {
	t.Helper()
	rec := sessiontest.NewRecorder()
	s, err := d.Open(context.Background(), session.Options{ChannelID: "ch_" + testenv.Unique(), JID: jid, Sink: rec})
	require.NoError(t, err)
	t.Cleanup(s.Disconnect)
	return s.(*Session), rec
}

func connect(t *testing.T, s session.Session) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, s.Connect(ctx))
}

// whatsAppReachable reports whether this machine can reach WhatsApp; the
// tests of the unreachable case are skipped where it can.
func whatsAppReachable() bool {
	conn, err := net.DialTimeout("tcp", "web.whatsapp.com:443", 2*time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

func TestNewUpgradesTheStoreOnceAcrossDrivers(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	pool, err := pgxpool.New(context.Background(), f.dsn)
	require.NoError(t, err)
	defer pool.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			d, err := New(context.Background(), Config{Pool: pool, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				err = d.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var version int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT version FROM whatsmeow_version").Scan(&version))
	require.Positive(t, version)
}

func TestNewRequiresAPool(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Config{})
	require.ErrorContains(t, err, "Pool is required")
}

func TestStoreRoundTripAcrossDrivers(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	a, b := f.driver(t, Config{}), f.driver(t, Config{})
	jid := storeDevice(t, a.container)

	saved, err := a.container.GetDevice(context.Background(), jid)
	require.NoError(t, err)
	loaded, err := b.container.GetDevice(context.Background(), jid)
	require.NoError(t, err)
	require.NotNil(t, loaded, "a device saved through one process is found by another by its JID")
	require.Equal(t, jid, *loaded.ID)
	require.Equal(t, saved.NoiseKey.Priv, loaded.NoiseKey.Priv)
	require.Equal(t, saved.IdentityKey.Priv, loaded.IdentityKey.Priv)
	require.Equal(t, saved.RegistrationID, loaded.RegistrationID)
	require.Equal(t, "Test Shop", loaded.PushName)

	missing, err := b.container.GetDevice(context.Background(), types.NewADJID("15550000000", 0, 1))
	require.NoError(t, err)
	require.Nil(t, missing)
}

func TestOpenChecksItsOptions(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	require.Equal(t, "whatsmeow", d.Name())
	_, err := d.Open(context.Background(), session.Options{ChannelID: "ch_x"})
	require.ErrorIs(t, err, session.ErrInvalid, "no sink")
	_, err = d.Open(context.Background(), session.Options{ChannelID: "ch_x", JID: "not a jid", Sink: sessiontest.NewRecorder()})
	require.ErrorIs(t, err, session.ErrInvalid)
	_, err = d.Open(context.Background(), session.Options{ChannelID: "ch_x", JID: "120363000000000001@g.us", Sink: sessiontest.NewRecorder()})
	require.ErrorIs(t, err, session.ErrInvalid, "a group is not a device")
}

// The case of every machine without a route to WhatsApp (as the test
// machines): the attempt fails fast and retryably, once, and the
// connection releases its goroutines.
func TestConnectWithoutRouteToWhatsAppFailsRetryably(t *testing.T) {
	if whatsAppReachable() {
		t.Skip("WhatsApp is reachable from here; TestConnectDialIsBounded covers the failure")
	}
	f := newFleet(t)
	d := f.driver(t, Config{DialTimeout: 3 * time.Second})
	baseline := runtime.NumGoroutine()

	for name, jid := range map[string]string{
		"pairing a new device":    "",
		"logging in a stored one": storeDevice(t, d.container).String(),
	} {
		s, rec := open(t, d, jid)
		start := time.Now()
		connect(t, s)
		cf := sessiontest.Expect[session.ConnectFailure](t, rec, wait)
		require.Equal(t, state.ReasonUnreachable, cf.Reason, name)
		require.True(t, cf.Retryable, name)
		require.NotEmpty(t, cf.Message, name)
		require.Less(t, time.Since(start), 5*time.Second, name)
		t.Logf("%s: %s after %s: %s", name, cf.Reason, time.Since(start).Round(time.Millisecond), cf.Message)
		rec.Quiet(t, time.Second) // no retries of its own, no spinning

		_, err := s.Send(context.Background(), session.Outbound{ID: "m1", To: "15551230001", Type: "text", Body: []byte(`{"text":"hi"}`)})
		require.ErrorIs(t, err, session.ErrNotConnected, name)
		connect(t, s) // the attempt is over: the worker may try again
		sessiontest.Expect[session.ConnectFailure](t, rec, wait)
		s.Disconnect()
	}
	testenv.Eventually(t, wait, func() bool { return runtime.NumGoroutine() <= baseline+2 },
		"goroutines back to about %d (now %d)", baseline, runtime.NumGoroutine())
}

// blackhole is a transport whose dials never complete, as to an address
// that drops packets.
func blackhole() *http.Transport {
	t := transport(time.Hour)
	t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return t
}

func TestConnectDialIsBounded(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{DialTimeout: 300 * time.Millisecond})
	d.ws = &http.Client{Transport: blackhole(), Timeout: d.cfg.DialTimeout}

	s, rec := open(t, d, "")
	start := time.Now()
	connect(t, s)
	cf := sessiontest.Expect[session.ConnectFailure](t, rec, wait)
	require.Equal(t, state.ReasonUnreachable, cf.Reason)
	require.True(t, cf.Retryable)
	require.Less(t, time.Since(start), 3*time.Second, "bounded by DialTimeout")
}

func TestConnectWithoutStoredDeviceAsksForPairing(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, rec := open(t, d, "15551239999:4@s.whatsapp.net")
	connect(t, s)
	out := sessiontest.Expect[session.LoggedOut](t, rec, wait)
	require.Equal(t, state.ReasonDeviceMissing, out.Reason)
	rec.Quiet(t, 300*time.Millisecond)
}

func TestConnectOnceAtATimeAndDisconnectIsSilent(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{DialTimeout: time.Second})
	d.ws = &http.Client{Transport: blackhole(), Timeout: time.Hour} // an attempt that hangs
	s, rec := open(t, d, "")
	connect(t, s)
	require.ErrorIs(t, s.Connect(context.Background()), errConnected)
	s.Disconnect()
	rec.Quiet(t, 500*time.Millisecond)
	connect(t, s)
	s.Disconnect()
	rec.Quiet(t, 300*time.Millisecond)
}

func TestCancellingTheContextEndsTheAttemptSilently(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	d.ws = &http.Client{Transport: blackhole(), Timeout: time.Hour}
	s, rec := open(t, d, "")
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, s.Connect(ctx))
	cancel() // the lease is lost
	rec.Quiet(t, 500*time.Millisecond)
	require.NoError(t, s.Connect(context.Background()), "a cancelled connection is over")
}

func TestLogoutWithoutWhatsAppDeletesTheDeviceLocally(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{DialTimeout: 300 * time.Millisecond})
	d.ws = &http.Client{Transport: blackhole(), Timeout: d.cfg.DialTimeout}
	jid := storeDevice(t, d.container)
	s, rec := open(t, d, jid.String())

	err := s.Logout(context.Background())
	require.ErrorContains(t, err, "device deleted locally")
	dev, err := d.container.GetDevice(context.Background(), jid)
	require.NoError(t, err)
	require.Nil(t, dev, "the channel can pair again")
	require.ErrorIs(t, s.Logout(context.Background()), session.ErrNotPaired)
	rec.Quiet(t, 300*time.Millisecond)
}

func TestPairPhoneChecksTheNumberFirst(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, _ := open(t, d, "")
	for _, phone := range []string{"123456", "+44 0", "0044 20 7946 0000"} {
		_, err := s.PairPhone(context.Background(), phone)
		require.ErrorIs(t, err, session.ErrInvalid, phone)
	}
	_, err := s.PairPhone(context.Background(), "+44 20 7946 0000")
	require.ErrorIs(t, err, session.ErrNotConnected)
}

func TestCapabilitiesNeedALoggedInSession(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, _ := open(t, d, "")
	var r Reader = s
	var p Presencer = s
	require.ErrorIs(t, r.MarkRead(context.Background(), "15551230001", "", []string{"3A01"}), session.ErrNotConnected)
	require.ErrorIs(t, r.MarkRead(context.Background(), "15551230001", "", nil), session.ErrInvalid)
	require.ErrorIs(t, r.MarkRead(context.Background(), group.String(), "", []string{"3A01"}), session.ErrInvalid, "groups need the sender")
	require.ErrorIs(t, p.SendPresence(context.Background(), "available", ""), session.ErrNotConnected)
	require.ErrorIs(t, p.SendPresence(context.Background(), "composing", ""), session.ErrInvalid)
	require.ErrorIs(t, p.SendPresence(context.Background(), "available", "15551230001"), session.ErrInvalid)
	require.ErrorIs(t, p.SendPresence(context.Background(), "recording", "15551230001"), session.ErrNotConnected)
}

// harness runs the session contract suite on this driver. It cannot
// connect in tests (there is no WhatsApp to talk to), so the suite's
// connecting cases are skipped and its offline ones run; PairDevice stores
// a device as pairing would.
type harness struct{ f *fleet }

var (
	_ sessiontest.Harness = harness{}
	_ sessiontest.Offline = harness{}
)

func (h harness) NewDriver(t *testing.T) session.Driver {
	return h.f.driver(t, Config{DialTimeout: time.Second})
}

func (h harness) PairDevice(t *testing.T, d session.Driver, _ string) string {
	return storeDevice(t, d.(*Driver).container).String()
}

func (harness) Offline() bool { return true }

func TestContract(t *testing.T) {
	t.Parallel()
	sessiontest.Run(t, harness{f: newFleet(t)})
}
