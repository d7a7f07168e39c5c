package worker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/state"
	"github.com/wagate/wagate/pkg/testenv"
)

// When WhatsApp cannot be reached, the dial error is the detail of the
// state reason: in connection.status_changed and in the stored history.
func TestUnreachableWhatsAppNamesTheDialErrorInEventAndHistory(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorker("a")
	ch := f.pairedChannel("unreachable")
	const dialErr = "dial tcp: lookup web.whatsapp.com on 127.0.0.53:53: no such host"
	f.sim(ch, sim.ActionConnectFailure, map[string]any{"reason": state.ReasonUnreachable, "message": dialErr, "retryable": true})
	want := "dns: " + dialErr
	var got event.StatusChanged
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, ev := range f.events(ch) {
			var d event.StatusChanged
			if ev.Type == event.ConnectionStatusChanged && json.Unmarshal(ev.Data, &d) == nil && d.To == state.Error {
				got = d
				return true
			}
		}
		return false
	}, "connection.status_changed to error")
	require.Equal(t, state.ReasonUnreachable, got.Reason)
	require.Equal(t, want, got.Detail)
	h, err := f.store.History(context.Background(), ch, 0, 50)
	require.NoError(t, err)
	found := false
	for _, e := range h {
		if e.To == state.Error && e.Reason == state.ReasonUnreachable {
			found = true
			require.Equal(t, want, e.Detail)
		}
	}
	require.True(t, found, "the transition to error is in the history: %+v", h)
	f.waitState(ch, state.Active, 10*time.Second) // and it reconnects
}
