package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/natsauth"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/testenv"
)

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{"2.9.25": false, "2.10.0": true, "v2.15.2": true, "3.0.0": true, "1.4": false, "junk": false} {
		err := bus.CheckVersion(v)
		require.Equal(t, ok, err == nil, "version %s: %v", v, err)
	}
}

// The stream's subject transform must put a command in the partition that
// shard.Of computes, or a command would reach a worker that does not own
// the channel.
func TestCommandTransformMatchesShardOf(t *testing.T) {
	_, url := testenv.NATS(t)
	const shards = 16
	b := testenv.Bus(t, url, shards)
	ctx := context.Background()
	channels := []string{"ch_a", "ch_01jd3k4m5n6p7q8r9s0t1v2w3x", "x", "ch_zz"}
	for _, ch := range channels {
		require.NoError(t, b.PublishCommand(ctx, ch, "start", "", []byte(`{}`)))
	}
	for _, ch := range channels {
		cons, err := b.JS.CreateOrUpdateConsumer(ctx, b.Names.CmdStream(), jetstream.ConsumerConfig{
			FilterSubject: b.Names.CmdStored(shard.Of(ch, shards), ch, "start"),
		})
		require.NoError(t, err)
		msg, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
		require.NoError(t, err, "command of %s not in shard %d", ch, shard.Of(ch, shards))
		k, got, verb, err := b.Names.ParseCmdStored(msg.Subject())
		require.NoError(t, err)
		require.Equal(t, shard.Of(ch, shards), k)
		require.Equal(t, ch, got)
		require.Equal(t, "start", verb)
		require.NoError(t, msg.Ack())
		require.NoError(t, b.JS.DeleteConsumer(ctx, b.Names.CmdStream(), cons.CachedInfo().Name))
	}
}

func TestStartEmbeddedRejectsBadListen(t *testing.T) {
	auth, err := natsauth.New()
	require.NoError(t, err)
	_, err = bus.StartEmbedded(t.TempDir(), "nonsense", auth)
	require.Error(t, err)
	_, err = bus.StartEmbedded(t.TempDir(), "", nil)
	require.ErrorContains(t, err, "never open")
}
