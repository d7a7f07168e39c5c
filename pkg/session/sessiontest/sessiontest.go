// Package sessiontest is the contract suite every session driver passes,
// in the style of watermill's pubsub tests: a driver's test builds a
// Harness and calls Run. It also provides Recorder, a Sink for tests.
//
// The suite checks what the worker relies on and needs no WhatsApp server:
// the open/connect/disconnect lifecycle, that a device paired through one
// driver instance is resumed by another without a QR code, PairPhone's
// validation, Send before Connect, that Disconnect emits nothing, and that
// cancelling Connect's ctx stops every timer and goroutine. Drivers that
// cannot connect in tests (whatsmeow without a server) implement Offline,
// and the subtests that connect are skipped.
//
// It is imported only from _test.go files.
package sessiontest

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
)

// Harness adapts a driver to the suite. Its methods are called from
// parallel subtests and must be safe for concurrent use.
type Harness interface {
	// NewDriver returns a new driver instance, as another process of the
	// same fleet would build it: every driver a Harness returns shares the
	// same device store (and whatever else the fleet shares). Cleanup goes
	// through t.
	NewDriver(t *testing.T) session.Driver
	// PairDevice links a device to channelID through d, by a full pairing
	// or by storing a device directly, and returns its JID. When it returns,
	// no session is connected to the device.
	PairDevice(t *testing.T, d session.Driver, channelID string) (jid string)
}

// Offline is implemented by harnesses whose drivers cannot connect in
// tests; Run then skips the subtests that connect when Offline is true.
type Offline interface {
	Offline() bool
}

// Timings of the suite.
const (
	// eventTimeout bounds every wait for an event.
	eventTimeout = 10 * time.Second
	// quiet is how long "nothing happens" is watched for.
	quiet = 300 * time.Millisecond
)

var channelSeq atomic.Int64

// channelID returns a channel id unique to the test binary's run.
func channelID() string {
	return fmt.Sprintf("ch_contract%d_%d", time.Now().UnixNano(), channelSeq.Add(1))
}

// Run runs the contract suite against the driver of h.
func Run(t *testing.T, h Harness) {
	offline := false
	if o, ok := h.(Offline); ok {
		offline = o.Offline()
	}
	connecting := func(t *testing.T) {
		t.Helper()
		if offline {
			t.Skip("the driver cannot connect in tests")
		}
	}
	open := func(t *testing.T, d session.Driver, ch, jid string) (session.Session, *Recorder) {
		t.Helper()
		rec := NewRecorder()
		s, err := d.Open(context.Background(), session.Options{ChannelID: ch, JID: jid, Sink: rec})
		require.NoError(t, err)
		t.Cleanup(s.Disconnect)
		return s, rec
	}
	connect := func(t *testing.T, s session.Session) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		require.NoError(t, s.Connect(ctx))
	}

	t.Run("the driver has a name", func(t *testing.T) {
		t.Parallel()
		require.NotEmpty(t, h.NewDriver(t).Name())
	})

	t.Run("send before connect fails with ErrNotConnected", func(t *testing.T) {
		t.Parallel()
		s, rec := open(t, h.NewDriver(t), channelID(), "")
		_, err := s.Send(context.Background(), session.Outbound{ID: "msg_contract_early", To: "15550001111@s.whatsapp.net",
			Type: "text", Body: []byte(`{"text":"hi"}`)})
		require.ErrorIs(t, err, session.ErrNotConnected)
		rec.Quiet(t, quiet)
	})

	t.Run("pair phone validates the number first", func(t *testing.T) {
		t.Parallel()
		s, _ := open(t, h.NewDriver(t), channelID(), "")
		for _, tc := range []struct{ name, phone string }{
			{"six digits are too short", "+1 (555) 12"},
			{"no digits at all", "phone"},
			{"a leading zero is not international", "0555 123 4567"},
		} {
			_, err := s.PairPhone(context.Background(), tc.phone)
			require.ErrorIs(t, err, session.ErrInvalid, tc.name)
		}
		_, err := s.PairPhone(context.Background(), "+1 555 123 4567")
		require.ErrorIs(t, err, session.ErrNotConnected, "a valid number needs a pairing connection")
	})

	t.Run("disconnect and logout without a connection", func(t *testing.T) {
		t.Parallel()
		s, rec := open(t, h.NewDriver(t), channelID(), "")
		s.Disconnect()
		s.Disconnect()
		require.ErrorIs(t, s.Logout(context.Background()), session.ErrNotPaired)
		rec.Quiet(t, quiet)
	})

	t.Run("pairing shows QR codes and a phone code", func(t *testing.T) {
		connecting(t)
		t.Parallel()
		s, rec := open(t, h.NewDriver(t), channelID(), "")
		before := time.Now()
		connect(t, s)
		qr := Expect[session.QR](t, rec, eventTimeout)
		require.NotEmpty(t, qr.Code)
		require.Equal(t, 1, qr.Attempt)
		require.Equal(t, 6, qr.MaxAttempts, "WhatsApp sends six codes")
		require.True(t, qr.ExpiresAt.After(before), "the code expires in the future")
		require.Error(t, s.Connect(context.Background()), "a session connects once at a time")

		code, err := s.PairPhone(context.Background(), "+1 555 123 4567")
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}$`), code)

		_, err = s.Send(context.Background(), session.Outbound{ID: "msg_contract_pairing", To: "15550001111@s.whatsapp.net", Type: "text"})
		require.ErrorIs(t, err, session.ErrNotConnected)
		s.Disconnect()
		drainQuiet(t, rec)
	})

	t.Run("a paired device resumes on another driver without a QR code", func(t *testing.T) {
		connecting(t)
		t.Parallel()
		ch := channelID()
		jid := h.PairDevice(t, h.NewDriver(t), ch)
		require.NotEmpty(t, jid)

		s, rec := open(t, h.NewDriver(t), ch, jid)
		connect(t, s)
		Expect[session.Connected](t, rec, eventTimeout)
		res, err := s.Send(context.Background(), session.Outbound{ID: "msg_contract_" + ch, To: "15550001111@s.whatsapp.net",
			Type: "text", Body: []byte(`{"text":"hello"}`)})
		require.NoError(t, err)
		require.NotEmpty(t, res.WAID)
		require.False(t, res.Timestamp.IsZero())
	})

	t.Run("disconnect emits nothing and the session reconnects", func(t *testing.T) {
		connecting(t)
		t.Parallel()
		d := h.NewDriver(t)
		ch := channelID()
		s, rec := open(t, d, ch, h.PairDevice(t, d, ch))
		connect(t, s)
		Expect[session.Connected](t, rec, eventTimeout)
		s.Disconnect()
		rec.Quiet(t, quiet)
		_, err := s.Send(context.Background(), session.Outbound{ID: "msg_contract_after_" + ch, To: "15550001111@s.whatsapp.net", Type: "text"})
		require.ErrorIs(t, err, session.ErrNotConnected)

		connect(t, s)
		Expect[session.Connected](t, rec, eventTimeout)
	})

	t.Run("logout deletes the device", func(t *testing.T) {
		connecting(t)
		t.Parallel()
		d := h.NewDriver(t)
		ch := channelID()
		jid := h.PairDevice(t, d, ch)
		s, rec := open(t, d, ch, jid)
		connect(t, s)
		Expect[session.Connected](t, rec, eventTimeout)
		require.NoError(t, s.Logout(context.Background()))
		rec.Quiet(t, quiet)

		again, rec := open(t, h.NewDriver(t), ch, jid)
		connect(t, again)
		out := Expect[session.LoggedOut](t, rec, eventTimeout)
		require.Equal(t, state.ReasonDeviceMissing, out.Reason)
	})

	// Not parallel: it counts goroutines, so the suite's parallel subtests
	// wait until it is done.
	t.Run("cancelling the context stops everything", func(t *testing.T) {
		connecting(t)
		d := h.NewDriver(t)
		ch := channelID()
		jid := h.PairDevice(t, d, ch)
		baseline := settledGoroutines()

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pairing, pairRec := open(t, d, channelID(), "")
		require.NoError(t, pairing.Connect(ctx))
		Expect[session.QR](t, pairRec, eventTimeout)
		paired, rec := open(t, d, ch, jid)
		require.NoError(t, paired.Connect(ctx))
		Expect[session.Connected](t, rec, eventTimeout)
		_, err := paired.Send(ctx, session.Outbound{ID: "msg_contract_cancel_" + ch, To: "15550001111@s.whatsapp.net",
			Type: "text", Body: []byte(`{"text":"pending receipts"}`)})
		require.NoError(t, err)

		cancel()
		waitFor(t, eventTimeout, func() bool { return runtime.NumGoroutine() <= baseline },
			"goroutines back to %d after cancel (now %d)", baseline, runtime.NumGoroutine())
		drainQuiet(t, pairRec)
		drainQuiet(t, rec)
		_, err = paired.Send(context.Background(), session.Outbound{ID: "msg_contract_cancelled_" + ch, To: "15550001111@s.whatsapp.net", Type: "text"})
		require.ErrorIs(t, err, session.ErrNotConnected, "a cancelled session is offline")
	})
}

// drainQuiet reads the events already in flight when the session closed,
// then requires nothing more to happen.
func drainQuiet(t *testing.T, rec *Recorder) {
	t.Helper()
	for range 10 {
		if _, ok := rec.next(time.Now().Add(quiet)); !ok {
			return
		}
	}
	t.Fatalf("the session keeps emitting after it closed: %s", describe(rec.Events()))
}

// settledGoroutines returns the goroutine count once it stops falling, so
// that goroutines of earlier work that are on their way out do not count.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return n
		}
		n = m
	}
	return n
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, fmt.Sprintf(format, args...))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
