package worker_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// An inbound text carrying NUL bytes and invalid UTF-8 (which Postgres
// refuses in text and jsonb) is recorded sanitised rather than lost: NULs
// dropped, invalid bytes as U+FFFD, and message.received published.
func TestInboundTextWithNULAndInvalidUTF8IsRecorded(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, time.Second)
	f.startWorker("a")
	ch := f.pairedChannel("dirty")
	// The args are written by hand so that the invalid byte reaches the
	// simulator as it is (json.Marshal would replace it).
	args := json.RawMessage("{\"id\":\"3ADIRTY1\",\"from\":\"15553334444\",\"push_name\":\"Bo\\u0000b\",\"text\":\"a\\u0000b\xffc\"}")
	f.sim(ch, sim.ActionInbound, args)
	testenv.Eventually(t, 10*time.Second, func() bool {
		return countType(f.events(ch), event.MessageReceived) == 1
	}, "the message to be published")
	msgs, err := f.store.ListMessages(context.Background(), ch, store.MessageFilter{Direction: "inbound"})
	require.NoError(t, err)
	require.Len(t, msgs, 1, "the message is recorded, not lost")
	require.Equal(t, "3ADIRTY1", msgs[0].WAID)
	body := string(msgs[0].Body)
	require.True(t, utf8.ValidString(body))
	require.NotContains(t, body, `\u0000`)
	var m map[string]any
	require.NoError(t, json.Unmarshal(msgs[0].Body, &m))
	require.Equal(t, "ab\uFFFDc", m["text"], "%s", body)
	require.Equal(t, "Bob", m["push_name"], "%s", body)
	require.False(t, strings.ContainsRune(body, 0))
}
