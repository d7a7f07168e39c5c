package worker

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

// Status changes handed over by many channels at once share statements,
// and each channel gets back exactly its own changed messages.
func TestAdvancesOfManyChannelsShareStatements(t *testing.T) {
	ctx := context.Background()
	st, _ := testenv.Store(t, 1)
	const channels, each = 20, 5
	chans := make([]string, channels)
	msgs := make([][]string, channels)
	for i := range chans {
		chans[i] = ids.New(ids.Channel)
		require.NoError(t, st.CreateChannel(ctx, &store.Channel{ID: chans[i], Name: "c", TokenHash: []byte(chans[i]), Shard: 0, Driver: "sim"}))
		for range each {
			m := &store.Message{ID: ids.New(ids.Message), ChannelID: chans[i], Chat: "c", Type: "text", Body: json.RawMessage(`{}`)}
			_, _, err := st.EnqueueMessage(ctx, m)
			require.NoError(t, err)
			msgs[i] = append(msgs[i], m.ID)
		}
	}
	a := &advances{st: st}
	var wg sync.WaitGroup
	for i := range chans {
		wg.Go(func() {
			steps := make([]store.Step, each)
			for k, id := range msgs[i] {
				steps[k] = store.Step{ID: id, WAID: "WA" + id, At: time.Now()}
			}
			changed, _, err := a.advance(0, chans[i], store.StatusSent, store.Failure{}, steps, nil)
			if assert.NoError(t, err) && assert.Len(t, changed, each) {
				for k, m := range changed {
					assert.Equal(t, msgs[i][k], m.ID)
					assert.Equal(t, chans[i], m.ChannelID)
				}
			}
		})
	}
	wg.Wait()
	var statements int
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT count(DISTINCT xmin::text) FROM messages WHERE status = 'sent'`).Scan(&statements))
	require.Less(t, statements, channels, "the channels' changes shared statements")
	t.Logf("%d channels recorded in %d statements", channels, statements)
	a.mu.Lock()
	defer a.mu.Unlock()
	require.Zero(t, a.writers, "no writer left running while idle")
}
