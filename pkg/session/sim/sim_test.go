package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// Timings of the tests: delays are scaled by timeScale (the QR cadence
// becomes 600 ms, then 200 ms; ConnectDelay 3 ms; receipts 10 ms and 30 ms).
const (
	timeScale   = 0.01
	presenceTTL = 300 * time.Millisecond
	wait        = 10 * time.Second
	quiet       = 200 * time.Millisecond
)

// fleet is what the workers of one fleet share: Postgres and Redis. Every
// driver built from it is another process of that fleet.
type fleet struct {
	st   *store.Store
	rdb  *redis.Client
	keys names.Redis
}

func newFleet(t testing.TB) *fleet {
	t.Helper()
	st, _ := testenv.Store(t, 4)
	rdb, prefix := testenv.Redis(t)
	return &fleet{st: st, rdb: rdb, keys: names.NewRedis(prefix)}
}

func (f *fleet) config() sim.Config {
	return sim.Config{
		Store:       f.st,
		Redis:       f.rdb,
		Keys:        f.keys,
		TimeScale:   timeScale,
		PresenceTTL: presenceTTL,
		Logger:      slog.New(slog.DiscardHandler),
	}
}

// driver returns a new driver of the fleet; edit adjusts its config.
func (f *fleet) driver(t testing.TB, edit ...func(*sim.Config)) *sim.Driver {
	t.Helper()
	cfg := f.config()
	for _, e := range edit {
		e(&cfg)
	}
	d, err := sim.New(cfg)
	require.NoError(t, err)
	return d
}

// NewDriver and PairDevice make a fleet a sessiontest.Harness.
func (f *fleet) NewDriver(t *testing.T) session.Driver { return f.driver(t) }

// PairDevice pairs through the real flow: QR code, scan, Connected.
func (f *fleet) PairDevice(t *testing.T, d session.Driver, channelID string) string {
	t.Helper()
	s, rec := open(t, d, channelID, "")
	connect(t, s)
	sessiontest.Expect[session.QR](t, rec, wait)
	control(t, s, sim.ActionScan, `{"push_name":"Contract"}`)
	ok := sessiontest.Expect[session.PairSuccess](t, rec, wait)
	sessiontest.Expect[session.Connected](t, rec, wait)
	s.Disconnect()
	return ok.JID
}

// device stores a linked device of channelID directly, as a scan would.
func (f *fleet) device(t testing.TB, channelID string) string {
	t.Helper()
	phone := fmt.Sprintf("1555%07d", deviceSeq.Add(1))
	d := &store.SimDevice{JID: phone + ":7@s.whatsapp.net", ChannelID: channelID, Phone: phone,
		PushName: "Test", Platform: "android", Identity: []byte("identity")}
	require.NoError(t, f.st.InsertSimDevice(context.Background(), d))
	return d.JID
}

var deviceSeq atomic.Int64

func TestContract(t *testing.T) {
	sessiontest.Run(t, newFleet(t))
}

func open(t testing.TB, d session.Driver, channelID, jid string) (session.Session, *sessiontest.Recorder) {
	t.Helper()
	rec := sessiontest.NewRecorder()
	s, err := d.Open(context.Background(), session.Options{ChannelID: channelID, JID: jid, Sink: rec})
	require.NoError(t, err)
	t.Cleanup(s.Disconnect)
	return s, rec
}

func connect(t testing.TB, s session.Session) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, s.Connect(ctx))
	return cancel
}

// online opens a session of a stored device and waits until it is connected.
func online(t testing.TB, f *fleet, d session.Driver) (session.Session, *sessiontest.Recorder, string) {
	t.Helper()
	ch := channel()
	jid := f.device(t, ch)
	s, rec := open(t, d, ch, jid)
	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	return s, rec, jid
}

func control(t *testing.T, s session.Session, action, args string) json.RawMessage {
	t.Helper()
	res, err := controlErr(s, action, args)
	require.NoError(t, err)
	return res
}

func controlErr(s session.Session, action, args string) (json.RawMessage, error) {
	c, ok := s.(sim.Controller)
	if !ok {
		return nil, fmt.Errorf("%T is not a sim.Controller", s)
	}
	return c.Control(context.Background(), action, json.RawMessage(args))
}

var channelSeq atomic.Int64

func channel() string { return fmt.Sprintf("ch_sim%d_%d", time.Now().UnixNano(), channelSeq.Add(1)) }

// marker returns the live-connection marker of jid ("" when none).
func (f *fleet) marker(t testing.TB, jid string) string {
	t.Helper()
	v, err := f.rdb.Get(context.Background(), f.keys.SimConn(jid)).Result()
	if err == redis.Nil {
		return ""
	}
	require.NoError(t, err)
	return v
}
