package relay_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/bus"
	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/relay"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/store"
	"github.com/wagate/wagate/pkg/testenv"
)

const shards = 4

// bundle is a relay behind an HTTP server, with two channels and their tokens.
type bundle struct {
	t      *testing.T
	bus    *bus.Bus
	redis  *redis.Client
	prefix string
	relay  *relay.Relay
	srv    *httptest.Server
	admin  string
	chA    string
	tokA   string
	chB    string
	tokB   string
}

type setupOpts struct {
	cfg      func(*relay.Config)
	listener func(net.Listener) net.Listener
}

func setup(t *testing.T, o setupOpts) *bundle {
	t.Helper()
	_, url := testenv.NATS(t)
	b := &bundle{t: t, bus: testenv.Bus(t, url, shards), admin: "admin-" + ids.Token("", 16)}
	st, _ := testenv.Store(t, shards)
	b.redis, b.prefix = testenv.Redis(t)
	b.chA, b.tokA = createChannel(t, st, "A")
	b.chB, b.tokB = createChannel(t, st, "B")

	cfg := relay.Config{Bus: b.bus, Redis: b.redis, Keys: names.NewRedis(b.prefix), Store: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	var err error
	b.relay, err = relay.New(cfg)
	require.NoError(t, err)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	auth := httpapi.NewAuthenticator([]string{b.admin}, st).Middleware()
	b.relay.Mount(e, auth)
	b.relay.Tokens().Mount(e, auth)
	b.srv = httptest.NewUnstartedServer(e)
	if o.listener != nil {
		b.srv.Listener = o.listener(b.srv.Listener)
	}
	b.srv.Start()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, b.relay.Run(ctx))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		b.srv.Close()
	})
	return b
}

func createChannel(t *testing.T, st *store.Store, name string) (id, token string) {
	t.Helper()
	token = "wgc_" + ids.Token("", 32)
	ch := &store.Channel{ID: ids.New(ids.Channel), Name: name, TokenHash: httpapi.HashToken(token), Driver: "sim"}
	ch.Shard = shard.Of(ch.ID, shards)
	require.NoError(t, st.CreateChannel(context.Background(), ch))
	return ch.ID, token
}

// publish stores an event of channel and returns its stream sequence.
func (b *bundle) publish(channel string, data any) uint64 {
	b.t.Helper()
	ev, err := event.New(event.MessageReceived, channel, 1, time.Now(), data)
	require.NoError(b.t, err)
	ack, err := b.bus.PublishEvent(context.Background(), ev)
	require.NoError(b.t, err)
	return ack.Sequence
}

// waitHead waits until the relay has fanned out the event seq: a new
// admin stream then starts at it.
func (b *bundle) waitHead(seq uint64) {
	b.t.Helper()
	testenv.Eventually(b.t, 5*time.Second, func() bool {
		s := b.openSSE("/v1/events", bearer(b.admin))
		defer s.close()
		id, _ := s.ready()
		return id == strconv.FormatUint(seq, 10)
	}, "relay head reaches %d", seq)
}

// sseEvent is one dispatched block of a stream: an event, a control event
// or a heartbeat comment.
type sseEvent struct {
	ID      string
	Event   string
	Data    string
	Comment string
}

func (e sseEvent) seq(t *testing.T) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(e.ID, 10, 64)
	require.NoError(t, err, "event id %q", e.ID)
	return n
}

func (e sseEvent) envelope(t *testing.T) event.Envelope {
	t.Helper()
	var env event.Envelope
	require.NoError(t, json.Unmarshal([]byte(e.Data), &env), "data %q", e.Data)
	return env
}

type sseStream struct {
	t      *testing.T
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openSSE connects to path with the given headers; it fails the test
// unless the answer is 200.
func (b *bundle) openSSE(path string, hdr map[string]string) *sseStream {
	b.t.Helper()
	resp, cancel := b.get(path, hdr)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, readAll(resp))
	}
	require.Equal(b.t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	s := &sseStream{t: b.t, resp: resp, events: make(chan sseEvent, 1024), cancel: cancel}
	go s.read()
	b.t.Cleanup(s.close)
	return s
}

func (b *bundle) get(path string, hdr map[string]string) (*http.Response, context.CancelFunc) {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+path, nil)
	require.NoError(b.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	return resp, cancel
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (s *sseStream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur sseEvent
	any := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if any {
				s.events <- cur
			}
			cur, any = sseEvent{}, false
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			cur.Comment = value
		case "id":
			cur.ID = value
		case "event":
			cur.Event = value
		case "data":
			cur.Data = value
		case "retry":
			continue
		}
		any = true
	}
}

func (s *sseStream) close() {
	s.cancel()
	_ = s.resp.Body.Close()
}

// next returns the next block that is not a heartbeat.
func (s *sseStream) next() sseEvent {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-s.events:
			require.True(s.t, ok, "stream ended")
			if e.Comment == "heartbeat" {
				continue
			}
			return e
		case <-timeout:
			s.t.Fatal("no event within 10s")
		}
	}
}

// ready reads the ready event and returns its id and replay count.
func (s *sseStream) ready() (id string, replayed int) {
	s.t.Helper()
	e := s.next()
	require.Equal(s.t, "ready", e.Event, "expected ready, got %+v", e)
	var d struct {
		Replayed int `json:"replayed"`
	}
	require.NoError(s.t, json.Unmarshal([]byte(e.Data), &d))
	return e.ID, d.Replayed
}

// quiet asserts that no event (other than heartbeats) arrives for d.
func (s *sseStream) quiet(d time.Duration) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return
			}
			require.Equal(s.t, "heartbeat", e.Comment, "unexpected event %+v", e)
		case <-timeout:
			return
		}
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func TestResumeWithLastEventIDGetsExactlyTheMissedEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	s := b.openSSE("/v1/channels/"+b.chA+"/events", bearer(b.tokA))
	s.ready()
	a1 := b.publish(b.chA, map[string]int{"n": 1})
	b.publish(b.chB, map[string]int{"n": 1})
	a2 := b.publish(b.chA, map[string]int{"n": 2})
	e1, e2 := s.next(), s.next()
	require.Equal(t, a1, e1.seq(t))
	require.Equal(t, b.chA, e1.envelope(t).ChannelID)
	require.Equal(t, a2, e2.seq(t))
	s.close()

	// Missed while disconnected: three events of A among events of B.
	var missed []uint64
	for i := 3; i <= 5; i++ {
		b.publish(b.chB, map[string]int{"n": i})
		missed = append(missed, b.publish(b.chA, map[string]int{"n": i}))
	}

	// Once the relay has fanned them out, the missed events come from the
	// replay, before ready; earlier they would come live, after it.
	b.waitHead(missed[len(missed)-1])
	s = b.openSSE("/v1/channels/"+b.chA+"/events", map[string]string{
		"Authorization": "Bearer " + b.tokA, "Last-Event-ID": e2.ID})
	var got []uint64
	for range missed {
		e := s.next()
		require.Equal(t, event.MessageReceived, e.Event, "expected a replayed event, got %+v", e)
		got = append(got, e.seq(t))
	}
	assert.Equal(t, missed, got)
	_, replayed := s.ready()
	assert.Equal(t, len(missed), replayed)

	a6 := b.publish(b.chA, map[string]int{"n": 6})
	assert.Equal(t, a6, s.next().seq(t), "the first live event follows the replay with no duplicate")
	s.quiet(200 * time.Millisecond)
}

// Reconnecting again and again while events keep coming must yield every
// event of the channel exactly once, in order.
func TestResumeUnderConcurrentPublishingHasNoGapAndNoDuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	var mu sync.Mutex
	var want []uint64
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ch := b.chB
			if i%2 == 0 {
				ch = b.chA
			}
			ev, _ := event.New(event.MessageReceived, ch, 1, time.Now(), map[string]int{"n": i})
			ack, err := b.bus.PublishEvent(context.Background(), ev)
			if err != nil {
				return
			}
			if ch == b.chA {
				mu.Lock()
				want = append(want, ack.Sequence)
				mu.Unlock()
			}
		}
	}()

	var got []uint64
	last := ""
	for round := 0; round < 8; round++ {
		hdr := bearer(b.tokA)
		if last != "" {
			hdr["Last-Event-ID"] = last
		}
		s := b.openSSE("/v1/channels/"+b.chA+"/events", hdr)
		ready := false
		for n := 0; n < 40 || !ready; {
			e := s.next()
			if e.Event == "ready" {
				ready = true
				continue
			}
			require.Equal(t, event.MessageReceived, e.Event, "round %d: %+v", round, e)
			got = append(got, e.seq(t))
			last = e.ID
			n++
		}
		require.True(t, ready)
		s.close()
	}
	close(stop)
	<-pubDone

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(want), len(got))
	// The first connection starts live, after whatever came before it.
	start := 0
	for start < len(want) && want[start] != got[0] {
		start++
	}
	require.Less(t, start, len(want), "first event %d was never published", got[0])
	assert.Equal(t, want[start:start+len(got)], got)
}

func TestResetWhenTheGapHasAgedOut(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	s := b.openSSE("/v1/channels/"+b.chA+"/events", bearer(b.tokA))
	s.ready()
	a1 := b.publish(b.chA, map[string]int{"n": 1})
	require.Equal(t, a1, s.next().seq(t))
	s.close()

	b.publish(b.chA, map[string]int{"n": 2})
	stream, err := b.bus.JS.Stream(context.Background(), b.bus.Names.EvtStream())
	require.NoError(t, err)
	require.NoError(t, stream.Purge(context.Background()))
	a3 := b.publish(b.chA, map[string]int{"n": 3})

	b.waitHead(a3)

	s = b.openSSE("/v1/channels/"+b.chA+"/events", map[string]string{
		"Authorization": "Bearer " + b.tokA, "Last-Event-ID": strconv.FormatUint(a1, 10)})
	e := s.next()
	require.Equal(t, "reset", e.Event, "%+v", e)
	assert.Equal(t, strconv.FormatUint(a3, 10), e.ID, "a reset moves the position to the head")
	var d struct {
		Reason         string `json:"reason"`
		LastEventID    uint64 `json:"last_event_id"`
		FirstAvailable uint64 `json:"first_available"`
	}
	require.NoError(t, json.Unmarshal([]byte(e.Data), &d))
	assert.Equal(t, "expired", d.Reason)
	assert.Equal(t, a1, d.LastEventID)
	assert.Equal(t, a3, d.FirstAvailable)
	s.ready()
	a4 := b.publish(b.chA, map[string]int{"n": 4})
	assert.Equal(t, a4, s.next().seq(t))

	t.Run("a position beyond the stream's end", func(t *testing.T) {
		s := b.openSSE("/v1/channels/"+b.chA+"/events", map[string]string{
			"Authorization": "Bearer " + b.tokA, "Last-Event-ID": "999999"})
		e := s.next()
		require.Equal(t, "reset", e.Event)
		assert.Contains(t, e.Data, `"unknown_position"`)
	})
	t.Run("a malformed id", func(t *testing.T) {
		resp, cancel := b.get("/v1/channels/"+b.chA+"/events", map[string]string{
			"Authorization": "Bearer " + b.tokA, "Last-Event-ID": "evt_x"})
		defer cancel()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, readAll(resp), `"validation_failed"`)
	})
}

// sendBufferListener shrinks the send buffer of every accepted connection,
// so a client that stops reading blocks the server's writes quickly.
type sendBufferListener struct{ net.Listener }

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

func TestSlowClientIsCutOffWhileOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{
		cfg: func(c *relay.Config) {
			c.ClientBuffer = 64
			c.WriteTimeout = time.Second
		},
		listener: func(l net.Listener) net.Listener { return sendBufferListener{l} },
	})
	dropped := counterValue(t, "wagate_relay_slow_clients_dropped_total")

	fast := b.openSSE("/v1/channels/"+b.chA+"/events", bearer(b.tokA))
	fast.ready()

	// The slow client sends its request and then never reads.
	slow, err := net.Dial("tcp", b.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer slow.Close()
	require.NoError(t, slow.(*net.TCPConn).SetReadBuffer(4<<10))
	_, err = fmt.Fprintf(slow, "GET /v1/channels/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", b.chA, b.tokA)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, func() bool { return b.relay.Clients() == 2 }, "both clients connected")

	payload := strings.Repeat("x", 8<<10)
	var want []uint64
	for i := range 300 {
		want = append(want, b.publish(b.chA, map[string]any{"n": i, "pad": payload}))
	}
	for i, seq := range want {
		e := fast.next()
		require.Equal(t, seq, e.seq(t), "fast client, event %d", i)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return b.relay.Clients() == 1 }, "the slow client is cut off")
	assert.Greater(t, counterValue(t, "wagate_relay_slow_clients_dropped_total"), dropped)

	// The server closed the slow connection: reading it ends well before
	// everything published.
	require.NoError(t, slow.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := io.Copy(io.Discard, slow)
	require.NoError(t, err, "the server must close the connection (read %d bytes)", n)
	assert.Less(t, n, int64(len(want)*len(payload)))

	// The fast client is still live.
	seq := b.publish(b.chA, map[string]int{"n": 301})
	assert.Equal(t, seq, fast.next().seq(t))
}

func counterValue(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

func TestHeartbeatsCarryThePositionOfAQuietChannel(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *relay.Config) { c.Heartbeat = 50 * time.Millisecond }})
	s := b.openSSE("/v1/channels/"+b.chA+"/events", bearer(b.tokA))
	s.ready()
	var lastB uint64
	for i := range 3 {
		lastB = b.publish(b.chB, map[string]int{"n": i})
	}
	want := strconv.FormatUint(lastB, 10)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-s.events:
			require.Equal(t, "heartbeat", e.Comment, "channel A must see nothing of B: %+v", e)
			if e.ID == want {
				return
			}
		case <-deadline:
			t.Fatalf("no heartbeat carried id %s", want)
		}
	}
}

func TestStreamAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})

	streamToken := func(auth, body string) (int, relay.TokenResponse, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/v1/stream-tokens", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw := readAll(resp)
		var tr relay.TokenResponse
		_ = json.Unmarshal([]byte(raw), &tr)
		return resp.StatusCode, tr, raw
	}
	status := func(path string, hdr map[string]string) int {
		t.Helper()
		resp, cancel := b.get(path, hdr)
		defer cancel()
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	code, tokA, raw := streamToken(b.tokA, `{"channel_id":"`+b.chA+`"}`)
	require.Equal(t, http.StatusCreated, code, raw)
	require.True(t, strings.HasPrefix(tokA.Token, relay.StreamTokenPrefix))
	assert.Equal(t, b.chA, tokA.ChannelID)
	assert.WithinDuration(t, time.Now().Add(relay.DefaultTokenTTL), tokA.ExpiresAt, 5*time.Second)
	code, tokAdmin, raw := streamToken(b.admin, ``)
	require.Equal(t, http.StatusCreated, code, raw)
	assert.Empty(t, tokAdmin.ChannelID)

	cases := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"channel token on its channel", "/v1/channels/" + b.chA + "/events", bearer(b.tokA), 200},
		{"channel token on another channel", "/v1/channels/" + b.chB + "/events", bearer(b.tokA), 401},
		{"channel token on the admin stream", "/v1/events", bearer(b.tokA), 401},
		{"no token", "/v1/channels/" + b.chA + "/events", nil, 401},
		{"stream token on its channel", "/v1/channels/" + b.chA + "/events?stream_token=" + tokA.Token, nil, 200},
		{"stream token on another channel", "/v1/channels/" + b.chB + "/events?stream_token=" + tokA.Token, nil, 403},
		{"stream token on another channel's websocket", "/v1/channels/" + b.chB + "/ws?stream_token=" + tokA.Token, nil, 403},
		{"channel stream token on the admin stream", "/v1/events?stream_token=" + tokA.Token, nil, 403},
		{"channel stream token on the admin websocket", "/v1/ws?stream_token=" + tokA.Token, nil, 403},
		{"unknown stream token", "/v1/events?stream_token=wgs_nope", nil, 401},
		{"admin stream token on the admin stream", "/v1/events?stream_token=" + tokAdmin.Token, nil, 200},
		{"admin stream token on a channel", "/v1/channels/" + b.chB + "/events?stream_token=" + tokAdmin.Token, nil, 200},
		{"admin on an unknown channel", "/v1/channels/ch_missing/events", bearer(b.admin), 404},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, status(tc.path, tc.hdr), tc.name)
	}

	t.Run("a channel token gets no stream token for another channel", func(t *testing.T) {
		code, _, raw := streamToken(b.tokA, `{"channel_id":"`+b.chB+`"}`)
		assert.Equal(t, http.StatusUnauthorized, code, raw)
	})
	t.Run("a channel token gets no admin stream token", func(t *testing.T) {
		code, _, raw := streamToken(b.tokA, `{}`)
		assert.Equal(t, http.StatusUnauthorized, code, raw)
	})
	t.Run("the admin gets no token for an unknown channel", func(t *testing.T) {
		code, _, raw := streamToken(b.admin, `{"channel_id":"ch_missing"}`)
		assert.Equal(t, http.StatusNotFound, code, raw)
	})
	t.Run("a malformed body", func(t *testing.T) {
		code, _, raw := streamToken(b.admin, `{"channel":"x"}`)
		assert.Equal(t, http.StatusBadRequest, code, raw)
		assert.Contains(t, raw, "unknown_field")
	})
	t.Run("tokens are stored hashed and expire", func(t *testing.T) {
		ctx := context.Background()
		keys, err := b.redis.Keys(ctx, b.prefix+"*").Result()
		require.NoError(t, err)
		require.NotEmpty(t, keys)
		for _, k := range keys {
			assert.NotContains(t, k, tokA.Token)
			v, _ := b.redis.Get(ctx, k).Result()
			assert.NotContains(t, v, tokA.Token)
			ttl, err := b.redis.TTL(ctx, k).Result()
			require.NoError(t, err)
			assert.Greater(t, ttl, time.Duration(0), "key %s has no TTL", k)
			assert.LessOrEqual(t, ttl, relay.DefaultTokenTTL)
		}
	})
}

func TestEventsAreValidJSONOnOneLine(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	s := b.openSSE("/v1/events", bearer(b.admin))
	s.ready()
	seq := b.publish(b.chB, map[string]string{"text": "two\nlines"})
	e := s.next()
	require.Equal(t, seq, e.seq(t))
	env := e.envelope(t)
	assert.Equal(t, b.chB, env.ChannelID)
	assert.JSONEq(t, `{"text":"two\nlines"}`, string(env.Data))
	assert.False(t, bytes.ContainsAny([]byte(e.Data), "\r\n"))
}

// Shutdown of the HTTP server must not wait for open streams: the relay
// ends them when the server shuts down.
func TestServerShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	s := b.openSSE("/v1/channels/"+b.chA+"/events", bearer(b.tokA))
	s.ready()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, b.srv.Config.Shutdown(ctx))
	assert.Less(t, time.Since(start), 5*time.Second)
	for e := range s.events {
		require.Equal(t, "heartbeat", e.Comment, "no event after shutdown: %+v", e)
	}
}

// Every event is named after its type, so EventSource's
// addEventListener("message.sent", …) receives it; ?event_names=false
// gives the unnamed events that onmessage receives, and a bad value is a
// validation error.
func TestSSEEventsAreNamedAfterTheirType(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	named := b.openSSE("/v1/events", bearer(b.admin))
	named.ready()
	unnamed := b.openSSE("/v1/events?event_names=false", bearer(b.admin))
	unnamed.ready()
	seq := b.publish(b.chB, map[string]string{"text": "hi"})

	e := named.next()
	require.Equal(t, seq, e.seq(t))
	env := e.envelope(t)
	require.NotEmpty(t, env.Type)
	require.Equal(t, env.Type, e.Event)

	u := unnamed.next()
	require.Equal(t, seq, u.seq(t))
	require.Empty(t, u.Event, "no name: onmessage receives it")
	require.Equal(t, e.Data, u.Data)

	resp, cancel := b.get("/v1/events?event_names=maybe", bearer(b.admin))
	defer cancel()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, readAll(resp), "event_names")
}
