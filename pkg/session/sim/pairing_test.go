package sim_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
)

var qrCode = regexp.MustCompile(`^2@[A-Za-z0-9+/]+=*(,[A-Za-z0-9+/]{43}=){3}$`)

func TestQRCadence(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := f.driver(t, func(c *sim.Config) { c.Now = func() time.Time { return t0 } })
	s, rec := open(t, d, channel(), "")
	connect(t, s)

	var qrs []session.QR
	var arrived []time.Time
	for range sim.QRCodes {
		qrs = append(qrs, sessiontest.Expect[session.QR](t, rec, wait))
		arrived = append(arrived, time.Now())
	}
	sessiontest.Expect[session.QRTimeout](t, rec, wait)
	timedOut := time.Now()

	first, next := scaled(60*time.Second), scaled(20*time.Second)
	seen := map[string]bool{}
	for i, qr := range qrs {
		require.Equal(t, i+1, qr.Attempt)
		require.Equal(t, 6, qr.MaxAttempts)
		require.Regexp(t, qrCode, qr.Code, "whatsmeow's layout: ref,noise,identity,adv")
		require.False(t, seen[qr.Code], "every code is new")
		seen[qr.Code] = true
		require.Equal(t, qrs[0].Code[strings.Index(qrs[0].Code, ","):], qr.Code[strings.Index(qr.Code, ","):],
			"the keys of one pairing stay the same; only the ref changes")
		if i == 0 {
			require.Equal(t, t0.Add(first), qr.ExpiresAt, "the first code lives 60 s")
		} else {
			require.Equal(t, next, qr.ExpiresAt.Sub(qrs[i-1].ExpiresAt), "the next codes live 20 s")
		}
	}
	// Real timers: each code is replaced when it expires, not before.
	gaps := []time.Duration{}
	for i := 1; i < len(arrived); i++ {
		gaps = append(gaps, arrived[i].Sub(arrived[i-1]))
	}
	gaps = append(gaps, timedOut.Sub(arrived[len(arrived)-1]))
	require.GreaterOrEqual(t, gaps[0], first-5*time.Millisecond, "gaps %v", gaps)
	for _, g := range gaps[1:] {
		require.GreaterOrEqual(t, g, next-5*time.Millisecond, "gaps %v", gaps)
		require.Less(t, g, gaps[0], "the first code lives longest: gaps %v", gaps)
	}

	rec.Quiet(t, quiet)
	_, err := s.Send(context.Background(), session.Outbound{ID: "m1", To: "15550001111", Type: "text"})
	require.ErrorIs(t, err, session.ErrNotConnected, "the session disconnected after the timeout")
	_, err = controlErr(s, sim.ActionScan, "")
	require.ErrorIs(t, err, session.ErrNotConnected)

	connect(t, s)
	again := sessiontest.Expect[session.QR](t, rec, wait)
	require.Equal(t, 1, again.Attempt, "a new Connect starts a new pairing")
	require.False(t, seen[again.Code])
}

func scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * timeScale) }

func TestScanPairsAndConnects(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	s, rec := open(t, f.driver(t), ch, "")
	connect(t, s)
	sessiontest.Expect[session.QR](t, rec, wait)

	res := control(t, s, sim.ActionScan, `{"phone":"+1 555 010 2030","push_name":"Ann","business_name":"Ann's"}`)
	var scan sim.ScanResult
	require.NoError(t, json.Unmarshal(res, &scan))

	ok := sessiontest.Expect[session.PairSuccess](t, rec, wait)
	require.Regexp(t, `^15550102030:\d+@s\.whatsapp\.net$`, ok.JID)
	require.Equal(t, sim.ScanResult{JID: ok.JID, Phone: "15550102030"}, scan)
	require.Equal(t, "15550102030", ok.Phone)
	require.Equal(t, "Ann", ok.PushName)
	require.Equal(t, "Ann's", ok.BusinessName)
	require.Equal(t, "android", ok.Platform)
	sessiontest.Expect[session.Connected](t, rec, wait)

	dev, err := f.st.SimDevice(context.Background(), ok.JID)
	require.NoError(t, err, "the device is stored for any worker to resume")
	require.Equal(t, ch, dev.ChannelID)
	require.Equal(t, "Ann", dev.PushName)
	require.NotEmpty(t, dev.Identity)
	require.NotEmpty(t, f.marker(t, ok.JID), "the connection is marked live")
	ttl, err := f.rdb.PTTL(context.Background(), f.keys.SimConn(ok.JID)).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, presenceTTL)

	_, err = controlErr(s, sim.ActionScan, "")
	require.ErrorIs(t, err, session.ErrInvalid, "a paired session cannot be scanned again")
	_, err = s.PairPhone(context.Background(), "15550102030")
	require.ErrorIs(t, err, session.ErrInvalid, "nor asked for a phone code")

	s.Disconnect()
	require.Empty(t, f.marker(t, ok.JID), "Disconnect removes the marker")
	rec.Quiet(t, quiet)
}

func TestScanWithoutPhoneUsesATestNumber(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	s, rec := open(t, f.driver(t), channel(), "")
	connect(t, s)
	sessiontest.Expect[session.QR](t, rec, wait)
	control(t, s, sim.ActionScan, "")
	ok := sessiontest.Expect[session.PairSuccess](t, rec, wait)
	require.Regexp(t, `^1555\d{7}$`, ok.Phone)
}

func TestPhoneCodePairing(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	s, rec := open(t, f.driver(t), channel(), "")

	_, err := s.PairPhone(context.Background(), "+44 7700 900123")
	require.ErrorIs(t, err, session.ErrNotConnected, "a code needs the pairing connection")

	connect(t, s)
	sessiontest.Expect[session.QR](t, rec, wait)
	for _, tc := range []struct{ name, phone, want string }{
		{name: "six digits are too short", phone: "123-456", want: "phone number too short"},
		{name: "a leading zero is not international", phone: "07700 900123", want: "not international"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PairPhone(context.Background(), tc.phone)
			require.ErrorIs(t, err, session.ErrInvalid)
			require.ErrorContains(t, err, tc.want)
		})
	}

	code, err := s.PairPhone(context.Background(), "+44 7700 900123")
	require.NoError(t, err)
	require.Regexp(t, `^[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}$`, code)

	_, err = controlErr(s, sim.ActionScan, `{"code":"AAAA-AAAA"}`)
	require.ErrorIs(t, err, session.ErrInvalid, "a wrong code does not link")
	_, err = controlErr(s, sim.ActionScan, `{"phone":"15550001111"}`)
	require.ErrorIs(t, err, session.ErrInvalid, "the code belongs to the number it was issued for")

	control(t, s, sim.ActionScan, `{"code":"`+code+`"}`)
	ok := sessiontest.Await[session.PairSuccess](t, rec, wait)
	require.Equal(t, "447700900123", ok.Phone)
	require.Regexp(t, `^447700900123:\d+@s\.whatsapp\.net$`, ok.JID)
	sessiontest.Expect[session.Connected](t, rec, wait)
}

func TestConnectResumesAStoredDevice(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ch := channel()
	jid := f.PairDevice(t, f.driver(t), ch)

	other := f.driver(t) // another worker
	s, rec := open(t, other, ch, jid)
	connect(t, s)
	sessiontest.Expect[session.Connected](t, rec, wait)
	require.NotEmpty(t, f.marker(t, jid))
	n, err := sim.DoubleConnections(context.Background(), f.rdb, f.keys)
	require.NoError(t, err)
	require.Zero(t, n, "the first driver disconnected before the second connected")
}

func TestConnectWithoutTheStoredDevice(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)

	t.Run("a missing device is logged out", func(t *testing.T) {
		s, rec := open(t, d, channel(), "15550009999:4@s.whatsapp.net")
		connect(t, s)
		out := sessiontest.Expect[session.LoggedOut](t, rec, wait)
		require.Equal(t, "device_missing", out.Reason)
		rec.Quiet(t, quiet)

		connect(t, s)
		sessiontest.Expect[session.QR](t, rec, wait) // the next Connect pairs anew
	})
	t.Run("a device of another channel is refused", func(t *testing.T) {
		jid := f.device(t, channel())
		s, rec := open(t, d, channel(), jid)
		err := s.Connect(context.Background())
		require.ErrorIs(t, err, session.ErrInvalid)
		rec.Quiet(t, quiet)
		require.Empty(t, f.marker(t, jid))
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	d := f.driver(t)

	t.Run("connected", func(t *testing.T) {
		s, rec, jid := online(t, f, d)
		require.NoError(t, s.Logout(context.Background()))
		rec.Quiet(t, quiet)
		_, err := f.st.SimDevice(context.Background(), jid)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, f.marker(t, jid))
		require.ErrorIs(t, s.Logout(context.Background()), session.ErrNotPaired)
		connect(t, s)
		sessiontest.Expect[session.QR](t, rec, wait)
	})
	t.Run("offline", func(t *testing.T) {
		ch := channel()
		jid := f.device(t, ch)
		s, rec := open(t, d, ch, jid)
		require.NoError(t, s.Logout(context.Background()))
		_, err := f.st.SimDevice(context.Background(), jid)
		require.ErrorIs(t, err, store.ErrNotFound)
		rec.Quiet(t, quiet)
	})
}
