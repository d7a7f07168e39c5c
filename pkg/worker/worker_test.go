package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestPairingLifecycle(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 4, time.Second)
	f.startWorker("w1")
	ch := f.createChannel("sales")

	f.command(ch, command.Start, command.Envelope{})
	f.waitState(ch, state.QRPending, 10*time.Second)
	// QR codes rotate on their own (time scale 0.01: 600 ms, then 200 ms each).
	testenv.Eventually(t, 10*time.Second, func() bool { return countType(f.events(ch), event.ConnectionQR) >= 2 }, "a second QR code")

	f.sim(ch, sim.ActionScan, map[string]string{"phone": "15551230001"})
	f.waitState(ch, state.Active, 10*time.Second)
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Contains(t, c.JID, "15551230001")
	require.Equal(t, "15551230001", c.Phone)

	var path []string
	for _, e := range f.events(ch) {
		if e.Type == event.ConnectionStatusChanged {
			var sc event.StatusChanged
			require.NoError(t, json.Unmarshal(e.Data, &sc))
			path = append(path, sc.To)
		}
	}
	require.Equal(t, []string{state.Initializing, state.QRPending, state.Authenticating, state.Active}, path)

	hist, err := f.store.History(context.Background(), ch, 0, 100)
	require.NoError(t, err)
	require.Len(t, hist, 4, "every transition is stored")
	require.Equal(t, state.ReasonConnected, hist[0].Reason)

	// Stop, then logout: the device is unlinked and a new QR is needed.
	f.command(ch, command.Stop, command.Envelope{})
	f.waitState(ch, state.Inactive, 5*time.Second)
	f.command(ch, command.Logout, command.Envelope{})
	f.waitState(ch, state.LoggedOut, 5*time.Second)
	c, err = f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Empty(t, c.JID)
	require.Equal(t, store.DesiredStopped, c.DesiredState)
}

func TestQRAttemptsRunOutToATerminalState(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.createChannel("nobody-scans")
	f.command(ch, command.Start, command.Envelope{})
	// 60 s + 5×20 s at scale 0.01 = 1.6 s.
	f.waitState(ch, state.Error, 15*time.Second)
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Equal(t, state.ReasonQRTimeout, c.StateReason)
	require.Equal(t, store.DesiredStopped, c.DesiredState, "no loop: the channel is not restarted")
	require.Equal(t, 6, countType(f.events(ch), event.ConnectionQR))
	time.Sleep(300 * time.Millisecond) // nothing more may happen
	require.Equal(t, 6, countType(f.events(ch), event.ConnectionQR))
}

func TestPairingCodeStartsASessionAndIsPublished(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.createChannel("phone")
	f.command(ch, command.PairPhone, command.Envelope{Phone: "15551230002"})
	testenv.Eventually(t, 10*time.Second, func() bool { return countType(f.events(ch), event.ConnectionPairingCode) == 1 }, "a pairing code")
	raw, err := f.rdb.Get(context.Background(), f.keys.PairingCode(ch)).Result()
	require.NoError(t, err)
	var pc event.PairingCode
	require.NoError(t, json.Unmarshal([]byte(raw), &pc))
	require.Regexp(t, `^[A-Z0-9]{4}-[A-Z0-9]{4}$`, pc.Code)
	f.sim(ch, sim.ActionScan, map[string]string{})
	f.waitState(ch, state.Active, 10*time.Second)
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Equal(t, "15551230002", c.Phone)
}

func TestRemoteDisconnectReconnectsWithBackoff(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("reconnects")
	f.sim(ch, sim.ActionDisconnect, map[string]string{})
	f.waitState(ch, state.Disconnected, 5*time.Second)
	f.waitState(ch, state.Active, 10*time.Second)
}

func TestBanAndPhoneLogout(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("banned")
	f.sim(ch, sim.ActionBan, map[string]any{"seconds": 4})
	f.waitState(ch, state.Banned, 5*time.Second)
	// The channel keeps when the ban ends (state_expires_at), not only the
	// event that announced it.
	banned, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.NotNil(t, banned.StateExpiresAt, "a banned channel carries the ban's end")
	require.WithinDuration(t, banned.StateChangedAt.Add(4*time.Second), *banned.StateExpiresAt, 2*time.Second)
	// The ban expires: the worker reconnects on its own.
	f.waitState(ch, state.Active, 15*time.Second)
	active, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Nil(t, active.StateExpiresAt, "the end of a ban goes with the ban")

	f.sim(ch, sim.ActionLogout, map[string]string{})
	f.waitState(ch, state.LoggedOut, 5*time.Second)
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	require.Empty(t, c.JID)
}

func TestDeleteRemovesTheChannel(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("deleted")
	f.command(ch, command.Delete, command.Envelope{})
	f.waitState(ch, "gone", 5*time.Second)
}

func TestStaleEpochWriteIsRefused(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	ch := f.createChannel("fenced")
	c, err := f.store.Channel(context.Background(), ch)
	require.NoError(t, err)
	ctx := context.Background()
	old, err := f.store.TakeEpoch(ctx, c.Shard, "old")
	require.NoError(t, err)
	newer, err := f.store.TakeEpoch(ctx, c.Shard, "new")
	require.NoError(t, err)
	tr := store.Transition{From: state.Inactive, To: state.Active, Reason: "test", At: time.Now()}
	err = f.store.SetState(ctx, store.Fence{Shard: c.Shard, Epoch: old, Worker: "old"}, ch, tr)
	require.True(t, errors.Is(err, store.ErrStaleEpoch), "got %v", err)
	require.Equal(t, state.Inactive, f.state(ch), "nothing written")
	require.NoError(t, f.store.SetState(ctx, store.Fence{Shard: c.Shard, Epoch: newer, Worker: "new"}, ch, tr))
	require.Equal(t, state.Active, f.state(ch))
}

// pairedChannel creates a channel, pairs it through a scan and waits until active.
//
// At the tests' time scale the simulated QR codes all expire within about
// 1.6 s; on a loaded machine the scan may come later, and the session times
// out: the channel is restarted then, up to three times.
func (f *fleet) pairedChannel(name string) string {
	f.t.Helper()
	ch := f.createChannel(name)
	f.pair(ch)
	return ch
}

// pair starts channel ch and scans its QR code until it is active.
func (f *fleet) pair(ch string) {
	f.t.Helper()
	f.command(ch, command.Start, command.Envelope{})
	for attempt := 1; ; attempt++ {
		f.waitState(ch, state.QRPending, 10*time.Second)
		f.sim(ch, sim.ActionScan, map[string]string{})
		deadline := time.Now().Add(10 * time.Second)
		for f.state(ch) != state.Active && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // polling the stored state
		}
		if f.state(ch) == state.Active {
			return
		}
		if attempt == 3 {
			f.t.Fatalf("channel %s never paired (state %s)", ch, f.state(ch))
		}
		f.t.Logf("the scan of %s missed the simulated QR window (attempt %d); restarting the channel", ch, attempt)
		f.command(ch, command.Restart, command.Envelope{})
	}
}

// qrAttempts are the attempt numbers of a channel's connection.qr events,
// in order, with the index of each event.
func qrAttempts(t *testing.T, evs []event.Envelope) (attempts, at []int) {
	t.Helper()
	for i, ev := range evs {
		if ev.Type != event.ConnectionQR {
			continue
		}
		var qr event.QR
		require.NoError(t, json.Unmarshal(ev.Data, &qr))
		attempts, at = append(attempts, qr.Attempt), append(at, i)
	}
	return attempts, at
}

// A pairing code asked for late in a login connection would die with it
// when its QR codes run out: the worker opens a new login connection and
// asks on its first code.
func TestPairPhoneDuringQRPendingOpensAFreshLoginConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.simTune = func(c *sim.Config) { c.TimeScale = 0.05 } // the six codes last 8 s
	f.startWorker("w1")
	ch := f.createChannel("late-pair")
	f.command(ch, command.Start, command.Envelope{})
	testenv.Eventually(t, 20*time.Second, func() bool {
		a, _ := qrAttempts(t, f.events(ch))
		return len(a) > 0 && a[len(a)-1] >= 2
	}, "the second QR code of the login connection")

	f.command(ch, command.PairPhone, command.Envelope{Phone: "15551230003"})
	testenv.Eventually(t, 20*time.Second, func() bool { return countType(f.events(ch), event.ConnectionPairingCode) == 1 }, "a pairing code")
	evs := f.events(ch)
	attempts, at := qrAttempts(t, evs)
	code := slices.IndexFunc(evs, func(e event.Envelope) bool { return e.Type == event.ConnectionPairingCode })
	last := -1
	for i, idx := range at {
		if idx < code {
			last = i
		}
	}
	require.GreaterOrEqual(t, last, 1, "QR codes came before the pairing code")
	require.Equal(t, 1, attempts[last], "the code was asked for on the first QR code of a new login connection (attempts %v)", attempts)
	require.GreaterOrEqual(t, attempts[last-1], 2, "after the codes of the first connection (attempts %v)", attempts)

	// The phone enters the code: linked.
	var pc event.PairingCode
	require.NoError(t, json.Unmarshal(evs[code].Data, &pc))
	f.sim(ch, sim.ActionScan, map[string]string{"code": pc.Code})
	f.waitState(ch, state.Active, 20*time.Second)
}

// Early in a login connection the code is asked for on it: no new
// connection, no new QR code.
func TestPairPhoneOnTheFirstQRCodeKeepsTheConnection(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.simTune = func(c *sim.Config) { c.TimeScale = 1 } // the first code shows for 60 s
	f.startWorker("w1")
	ch := f.createChannel("early-pair")
	f.command(ch, command.Start, command.Envelope{})
	testenv.Eventually(t, 20*time.Second, func() bool { return countType(f.events(ch), event.ConnectionQR) == 1 }, "the first QR code")
	f.command(ch, command.PairPhone, command.Envelope{Phone: "15551230004"})
	testenv.Eventually(t, 20*time.Second, func() bool { return countType(f.events(ch), event.ConnectionPairingCode) == 1 }, "a pairing code")
	attempts, _ := qrAttempts(t, f.events(ch))
	require.Equal(t, []int{1}, attempts, "the same login connection")
}
