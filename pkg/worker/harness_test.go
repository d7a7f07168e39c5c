package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/command"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
	"github.com/wagate/wagate/pkg/worker"
)

// fleet is a test bundle: real Postgres, Redis and NATS shared by the
// workers a test starts, as separate machines would share them.
type fleet struct {
	t      *testing.T
	shards int
	ttl    time.Duration
	dsn    string
	store  *store.Store
	rdb    *redis.Client
	keys   names.Redis
	bus    *bus.Bus
	log    *slog.Logger

	// simTune, when set, adjusts the simulator of the workers started next.
	simTune func(*sim.Config)

	mu      sync.Mutex
	workers []*runningWorker
}

type runningWorker struct {
	w      *worker.Worker
	cancel context.CancelFunc
	done   chan struct{}
}

func newFleet(t *testing.T, shards int, ttl time.Duration) *fleet {
	t.Helper()
	st, dsn := testenv.Store(t, shards)
	rdb, prefix := testenv.Redis(t)
	_, url := testenv.NATS(t)
	b := testenv.Bus(t, url, shards)
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelDebug
	}
	return &fleet{
		t: t, shards: shards, ttl: ttl, dsn: dsn, store: st, rdb: rdb, keys: names.NewRedis(prefix), bus: b,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
}

// startWorker runs a worker with the simulator driver at a fast time scale.
func (f *fleet) startWorker(id string) *runningWorker { return f.startWorkerWith(id, nil) }

// startWorkerWith runs a worker whose configuration tune adjusts.
func (f *fleet) startWorkerWith(id string, tune func(*worker.Config)) *runningWorker {
	f.t.Helper()
	sc := sim.Config{
		Store: f.store, Redis: f.rdb, Keys: f.keys, TimeScale: 0.01,
		PresenceTTL: f.ttl / 3, Logger: f.log,
	}
	if f.simTune != nil {
		f.simTune(&sc)
	}
	d, err := sim.New(sc)
	require.NoError(f.t, err)
	wc := worker.Config{
		ID: id, Shards: f.shards, Store: f.store, Bus: f.bus, Redis: f.rdb, Keys: f.keys,
		Drivers: map[string]session.Driver{"sim": d}, LeaseTTL: f.ttl, AckWait: 2 * time.Second,
		ResumeSpread: 50 * time.Millisecond, ReconnectBase: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		Logger: f.log.With("worker", id),
	}
	if tune != nil {
		tune(&wc)
	}
	w := worker.New(wc)
	ctx, cancel := context.WithCancel(context.Background())
	rw := &runningWorker{w: w, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rw.done)
		_ = w.Run(ctx)
	}()
	f.mu.Lock()
	f.workers = append(f.workers, rw)
	f.mu.Unlock()
	f.t.Cleanup(rw.stop)
	return rw
}

// stop shuts the worker down gracefully.
func (rw *runningWorker) stop() {
	rw.cancel()
	<-rw.done
}

// crash stops the worker as a killed process would: no release, no goodbye.
func (rw *runningWorker) crash() {
	rw.w.Crash()
	rw.cancel()
	<-rw.done
}

// createChannel inserts a sim channel whose desired state is running.
func (f *fleet) createChannel(name string) string {
	f.t.Helper()
	id := ids.New(ids.Channel)
	c := &store.Channel{ID: id, Name: name, TokenHash: httpapi.HashToken(id), Shard: shard.Of(id, f.shards), Driver: "sim"}
	require.NoError(f.t, f.store.CreateChannel(context.Background(), c))
	return id
}

func (f *fleet) command(channel, verb string, env command.Envelope) {
	f.t.Helper()
	ctx := context.Background()
	switch verb {
	case command.Start, command.Restart, command.PairPhone:
		require.NoError(f.t, f.store.SetDesired(ctx, channel, store.DesiredRunning))
	case command.Stop, command.Logout:
		require.NoError(f.t, f.store.SetDesired(ctx, channel, store.DesiredStopped))
	case command.Delete:
		require.NoError(f.t, f.store.SetDesired(ctx, channel, store.DesiredDeleted))
	}
	body, err := json.Marshal(env)
	require.NoError(f.t, err)
	require.NoError(f.t, f.bus.PublishCommand(ctx, channel, verb, ids.New("req_"), body))
}

func (f *fleet) sim(channel, action string, args any) {
	f.t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(f.t, err)
	f.command(channel, command.Sim, command.Envelope{Action: action, Args: raw})
}

func (f *fleet) state(channel string) string {
	c, err := f.store.ChannelAny(context.Background(), channel)
	if err != nil {
		return "gone"
	}
	return c.State
}

func (f *fleet) waitState(channel, want string, timeout time.Duration) {
	f.t.Helper()
	testenv.Eventually(f.t, timeout, func() bool { return f.state(channel) == want },
		"channel %s to reach %s (now %s)", channel, want, f.state(channel))
}

// events reads every event of a channel stored in WA_EVT so far.
func (f *fleet) events(channel string) []event.Envelope {
	f.t.Helper()
	ctx := context.Background()
	cons, err := f.bus.JS.OrderedConsumer(ctx, f.bus.Names.EvtStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{f.bus.Names.EvtChannel(channel)},
	})
	require.NoError(f.t, err)
	var out []event.Envelope
	for {
		batch, err := cons.FetchNoWait(500)
		require.NoError(f.t, err)
		n := 0
		for m := range batch.Messages() {
			n++
			var ev event.Envelope
			require.NoError(f.t, json.Unmarshal(m.Data(), &ev))
			out = append(out, ev)
		}
		if n == 0 {
			return out
		}
	}
}

func countType(evs []event.Envelope, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// owners maps each shard to the worker holding it.
func (f *fleet) owned(rws ...*runningWorker) map[int]int {
	out := map[int]int{}
	for i, rw := range rws {
		for _, k := range rw.w.Owned() {
			out[k] = i
		}
	}
	return out
}
