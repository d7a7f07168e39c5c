package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

// phonePresence is the last presence the channel sent, as the simulated
// phone recorded it ("available ", "composing <chat>", …).
func (f *fleet) phonePresence(channel string) string {
	v, _ := f.rdb.HGet(context.Background(), f.keys.SimPhone(channel), "presence").Result()
	return v
}

// eventOf waits for the first event of typ in channel and returns its data.
func (f *fleet) eventOf(channel, typ string) map[string]any {
	f.t.Helper()
	var data map[string]any
	testenv.Eventually(f.t, 10*time.Second, func() bool {
		for _, e := range f.events(channel) {
			if e.Type == typ {
				require.NoError(f.t, json.Unmarshal(e.Data, &data))
				return true
			}
		}
		return false
	}, "a %s event", typ)
	return data
}

// Point 6 of issue 16 through the fleet: by default a channel goes online
// after connecting, follows the presence of the chats with recent traffic
// (after a restart too) and of new ones as messages arrive, and publishes
// presence.updated and chat.presence.
func TestPresenceOnlineAfterConnectAndFollowedChats(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("presence")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.phonePresence(ch) == "available " }, "the channel to go online")

	// A contact writes: the channel follows its presence from then on.
	f.sim(ch, sim.ActionInbound, map[string]string{"from": "15550104444", "text": "hi"})
	f.eventOf(ch, event.MessageReceived)
	f.sim(ch, sim.ActionPresence, map[string]string{"from": "15550104444", "state": "composing"})
	typing := f.eventOf(ch, event.ChatPresence)
	require.Equal(t, "composing", typing["state"])
	require.Equal(t, "15550104444@s.whatsapp.net", typing["chat"])
	f.sim(ch, sim.ActionPresence, map[string]string{"from": "15550104444", "state": "available"})
	online := f.eventOf(ch, event.PresenceUpdated)
	require.Equal(t, "15550104444@s.whatsapp.net", online["from"])
	require.Equal(t, "available", online["state"])

	// A new connection knows nothing of the old one's subscriptions: the
	// worker follows the chats with recent traffic again.
	before := countType(f.events(ch), event.PresenceUpdated)
	f.command(ch, command.Restart, command.Envelope{})
	testenv.Eventually(t, 10*time.Second, func() bool {
		return countType(f.events(ch), event.ConnectionStatusChanged) > 0 && f.state(ch) == state.Active && f.phonePresence(ch) == "available "
	}, "the channel back online")
	testenv.Eventually(t, 10*time.Second, func() bool {
		f.sim(ch, sim.ActionPresence, map[string]string{"from": "15550104444", "state": "unavailable"})
		time.Sleep(300 * time.Millisecond)
		return countType(f.events(ch), event.PresenceUpdated) > before
	}, "the recent chat followed after the restart")
}

// With settings.presence.online false the channel sends unavailable once
// (its push name reaches WhatsApp, the phone keeps its notifications) and
// WhatsApp passes it no typing or online status.
func TestPresenceOfflineSetting(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 2, time.Second)
	f.startWorker("w1")
	ch := f.createChannel("offline")
	_, err := f.store.Pool.Exec(context.Background(), `UPDATE channels SET settings = '{"presence":{"online":false}}' WHERE id = $1`, ch)
	require.NoError(t, err)
	f.pair(ch)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.phonePresence(ch) == "unavailable " }, "the channel to announce itself unavailable")

	f.sim(ch, sim.ActionInbound, map[string]string{"from": "15550104445", "text": "hi"})
	f.sim(ch, sim.ActionPresence, map[string]string{"from": "15550104445", "state": "composing"})
	f.sim(ch, sim.ActionInbound, map[string]string{"from": "15550104445", "text": "marker"})
	testenv.Eventually(t, 10*time.Second, func() bool { return countType(f.events(ch), event.MessageReceived) == 2 }, "both messages")
	require.Zero(t, countType(f.events(ch), event.ChatPresence), "no typing reaches an unavailable channel")
}

// Going offline through the settings takes effect on the running channel:
// it tells WhatsApp unavailable at once, and available again when turned
// back on.
func TestPresenceSettingChangedWhileConnected(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorker("w1")
	ch := f.pairedChannel("presence-setting")
	testenv.Eventually(t, 10*time.Second, func() bool { return f.phonePresence(ch) == "available " }, "the channel to go online")

	setOnline := func(on bool) {
		t.Helper()
		body, err := json.Marshal(map[string]any{"presence": map[string]bool{"online": on}})
		require.NoError(t, err)
		_, err = f.store.PatchChannel(context.Background(), ch, nil, body, nil, nil)
		require.NoError(t, err)
		httpapi.Announce(f.bus.Conn, f.bus.Names.ChannelsChanged(), ch, nil)
	}
	setOnline(false)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.phonePresence(ch) == "unavailable " }, "the channel to go offline")
	setOnline(true)
	testenv.Eventually(t, 10*time.Second, func() bool { return f.phonePresence(ch) == "available " }, "the channel back online")
	require.Equal(t, state.Active, f.state(ch), "no reconnection for it")
}
