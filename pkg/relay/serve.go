package relay

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wagate/wagate/pkg/httpapi"
	"github.com/wagate/wagate/pkg/store"
)

// Query parameters of the stream routes.
const (
	// QueryStreamToken carries a stream token (EventSource cannot send headers).
	QueryStreamToken = "stream_token"
	// QueryLastEventID resumes after an id, for clients that cannot send
	// the Last-Event-ID header (WebSocket, a new EventSource).
	QueryLastEventID = "last_event_id"
	// HeaderLastEventID is the header EventSource sends on reconnect.
	HeaderLastEventID = "Last-Event-ID"
)

// Stream errors.
var (
	errInvalidStreamToken = &httpapi.Error{Status: http.StatusUnauthorized, Code: "invalid_stream_token",
		Message: "the stream token is unknown or expired; get a new one from POST /v1/stream-tokens"}
	errNotReady = &httpapi.Error{Status: http.StatusServiceUnavailable, Code: "relay_not_ready",
		Message: "the event relay is not subscribed to the event stream yet; retry in a few seconds"}
)

const principalKey = "wagate.relay.principal"

// Mount adds the stream routes. auth is the bearer-token middleware; a
// ?stream_token= replaces it.
func (r *Relay) Mount(e *gin.Engine, auth gin.HandlerFunc) {
	// The dispatcher's engine has no API middleware: refuse unstorable
	// text here too (idempotent when the API checked it already).
	q, a := httpapi.CheckQuery(), r.authenticate(auth)
	e.GET("/v1/channels/:id/events", q, a, r.handle(transportSSE, false))
	e.GET("/v1/channels/:id/ws", q, a, r.handle(transportWS, false))
	e.GET("/v1/events", q, a, r.handle(transportSSE, true))
	e.GET("/v1/ws", q, a, r.handle(transportWS, true))
}

// authenticate accepts a stream token, or else runs auth, which calls the
// rest of the chain itself when the bearer token is good.
func (r *Relay) authenticate(auth gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok := c.Query(QueryStreamToken)
		if tok == "" {
			auth(c)
			return
		}
		p, err := r.tokens.Verify(c.Request.Context(), tok)
		if errors.Is(err, ErrInvalidToken) {
			httpapi.Abort(c, errInvalidStreamToken)
			return
		}
		if err != nil {
			httpapi.Abort(c, err)
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

func principalOf(c *gin.Context) httpapi.Principal {
	if v, ok := c.Get(principalKey); ok {
		p, _ := v.(httpapi.Principal)
		return p
	}
	return httpapi.PrincipalOf(c)
}

func (r *Relay) handle(transport string, admin bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		channel := c.Param("id")
		switch {
		case admin && !p.Admin:
			httpapi.Abort(c, httpapi.ErrForbidden.WithDetails(map[string]string{
				"hint": "the stream of every channel needs the admin token; a channel reaches /v1/channels/{id}/events"}))
			return
		case !admin && !p.CanAccess(channel):
			httpapi.Abort(c, httpapi.ErrForbidden)
			return
		case !admin && p.Admin && r.cfg.Store != nil:
			if _, err := r.cfg.Store.Channel(c.Request.Context(), channel); errors.Is(err, store.ErrNotFound) {
				httpapi.Abort(c, httpapi.ErrChannelNF)
				return
			} else if err != nil {
				httpapi.Abort(c, err)
				return
			}
		}
		last, verr := lastEventID(c)
		if verr != nil {
			httpapi.Abort(c, verr)
			return
		}
		unnamed, verr := eventNamesOff(c)
		if verr != nil {
			httpapi.Abort(c, verr)
			return
		}
		select {
		case <-r.hub.ready:
		case <-c.Request.Context().Done():
			return
		case <-time.After(r.cfg.ReadyTimeout):
			httpapi.Abort(c, errNotReady)
			return
		}
		scope := scopeChannel
		if admin {
			scope = scopeAdmin
		}
		log := r.log.With("transport", transport, "scope", scope)
		if channel != "" {
			log = log.With("channel_id", channel)
		}
		var tr sink
		if transport == transportSSE {
			tr = r.openSSE(c, unnamed)
		} else {
			ws, err := r.openWS(c)
			if err != nil {
				log.Debug("websocket handshake failed", "err", err)
				return
			}
			tr = ws
		}
		gauge := metricClients.WithLabelValues(transport, scope)
		gauge.Inc()
		defer gauge.Dec()
		// Streams end when the client goes, when Run stops, and when the
		// HTTP server shuts down: Shutdown would otherwise wait for them.
		ctx, cancel := context.WithCancel(tr.context())
		defer cancel()
		shutdown := r.serverDone(c.Request)
		go func() {
			select {
			case <-shutdown:
			case <-r.stopped:
			case <-ctx.Done():
			}
			cancel()
		}()
		start := time.Now()
		log.Debug("stream opened", "resume", last != nil)
		sent, err := r.serve(ctx, tr, transport, channel, last)
		reason := "client_gone"
		if tr.context().Err() == nil && ctx.Err() != nil {
			reason = "shutdown"
		}
		switch {
		case errors.Is(err, errSlow):
			reason = "slow"
			log.Warn("stream client cut off: it did not keep up", "buffer", r.cfg.ClientBuffer, "sent", sent)
		case isTimeout(err):
			reason = "write_timeout"
			metricSlowDropped.Inc()
			log.Warn("stream client cut off: a write timed out", "timeout", r.cfg.WriteTimeout, "sent", sent)
		case err != nil && ctx.Err() == nil:
			reason = "error"
			log.Info("stream ended", "err", err)
		}
		tr.close(reason)
		log.Debug("stream closed", "reason", reason, "sent", sent, "duration", time.Since(start).Round(time.Millisecond))
	}
}

// serverDone returns a channel closed when the HTTP server serving req
// shuts down (nil when req carries no server).
func (r *Relay) serverDone(req *http.Request) <-chan struct{} {
	srv, _ := req.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	done, ok := r.servers[srv]
	if !ok {
		done = make(chan struct{})
		r.servers[srv] = done
		// Shutdown runs its hooks on every call, and a process may call it
		// more than once.
		srv.RegisterOnShutdown(sync.OnceFunc(func() { close(done) }))
	}
	return done
}

func lastEventID(c *gin.Context) (*uint64, *httpapi.Error) {
	v := c.GetHeader(HeaderLastEventID)
	field := HeaderLastEventID
	if q := c.Query(QueryLastEventID); q != "" {
		v, field = q, QueryLastEventID
	}
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return nil, httpapi.Validation(field, "must be the id of an event received from this stream (a non-negative integer), not %q", v)
	}
	return &n, nil
}

// eventNamesOff reads ?event_names: "false" (or "0") streams SSE events
// without a name, for clients written against onmessage; the default
// names each event after its type.
func eventNamesOff(c *gin.Context) (bool, *httpapi.Error) {
	switch v := c.Query("event_names"); v {
	case "", "true", "1":
		return false, nil
	case "false", "0":
		return true, nil
	default:
		return false, httpapi.Validation("event_names", "must be true or false, not %q", v)
	}
}

// sink writes one client's stream in one transport; the serve loop is
// its only user.
type sink interface {
	// context ends when the client goes away.
	context() context.Context
	// begin starts a batch of writes (it arms the write deadline).
	begin()
	event(f frame) error
	control(kind string, id uint64, data any) error
	heartbeat(id uint64) error
	flush() error
	close(reason string)
}

// errSlow ends the stream of a client the hub cut off.
var errSlow = errors.New("relay: client too slow")

// Control events.
const (
	kindReady = "ready"
	kindReset = "reset"
)

// readyData is the body of the ready event.
type readyData struct {
	// Replayed counts the events read back for a resume.
	Replayed int `json:"replayed"`
	// Resumed is true when the client sent a last event id.
	Resumed bool `json:"resumed"`
	// HeartbeatSeconds is the heartbeat interval.
	HeartbeatSeconds float64 `json:"heartbeat_seconds"`
}

// resetData is the body of the reset event.
type resetData struct {
	// Reason: expired (aged out of WA_EVT), unknown_position (beyond the
	// stream's end) or too_far_behind (more than MaxReplay events).
	Reason string `json:"reason"`
	// LastEventID is the id the client asked to resume after.
	LastEventID uint64 `json:"last_event_id"`
	// FirstAvailable is the oldest sequence WA_EVT still holds.
	FirstAvailable uint64 `json:"first_available"`
	// Message says what the client should do.
	Message string `json:"message"`
}

const resetMessage = "events after last_event_id are no longer available; reload the state from the REST API, then keep reading this stream"

// batchMax bounds the events written between two flushes.
const batchMax = 64

// serve runs one client's stream: resume, ready, then live events and
// heartbeats until the client goes, the hub cuts it off or a write fails.
func (r *Relay) serve(ctx context.Context, tr sink, transport, channel string, last *uint64) (sent int, err error) {
	sentC := metricEventsSent.WithLabelValues(transport)
	defer func() { sentC.Add(float64(sent)) }()
	cl, head := r.hub.subscribe(channel, r.cfg.ClientBuffer)
	defer r.hub.unsubscribe(cl)

	tr.begin()
	pos := head
	if last != nil {
		var reset *resetData
		pos, sent, reset, err = r.resume(ctx, tr, channel, *last, head)
		if err != nil {
			return sent, err
		}
		if reset != nil {
			if err := tr.control(kindReset, head, reset); err != nil {
				return sent, err
			}
		}
	}
	if err := tr.control(kindReady, pos, readyData{Replayed: sent, Resumed: last != nil, HeartbeatSeconds: r.cfg.Heartbeat.Seconds()}); err != nil {
		return sent, err
	}
	if err := tr.flush(); err != nil {
		return sent, err
	}

	tick := time.NewTicker(r.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-cl.gone:
			return sent, errSlow
		default:
		}
		select {
		case <-ctx.Done():
			return sent, nil
		case <-cl.gone:
			return sent, errSlow
		case f := <-cl.ch:
			tr.begin()
			for n := 0; ; n++ {
				if f.seq > pos {
					if err := tr.event(f); err != nil {
						return sent, err
					}
					pos = f.seq
					sent++
				}
				if n == batchMax {
					break
				}
				var more bool
				select {
				case f, more = <-cl.ch:
				default:
				}
				if !more {
					break
				}
			}
			if err := tr.flush(); err != nil {
				return sent, err
			}
		case <-tick.C:
			tr.begin()
			// Every frame up to head went into the buffer before head was
			// stored; an empty buffer now means all of them were written.
			var id uint64
			if h := r.hub.head.Load(); h > pos && len(cl.ch) == 0 {
				pos, id = h, h
			}
			if err := tr.heartbeat(id); err != nil {
				return sent, err
			}
			if err := tr.flush(); err != nil {
				return sent, err
			}
		}
	}
}

// resume replays what the client missed after last, up to head, and
// returns the position reached; reset is set when the gap cannot be filled.
func (r *Relay) resume(ctx context.Context, tr sink, channel string, last, head uint64) (pos uint64, replayed int, reset *resetData, err error) {
	if last == head {
		metricResumes.WithLabelValues("current").Inc()
		return head, 0, nil, nil
	}
	st, err := r.cfg.Bus.JS.Stream(ctx, r.names.EvtStream())
	if err != nil {
		return 0, 0, nil, err
	}
	state := st.CachedInfo().State
	resetFor := func(reason string) (uint64, int, *resetData, error) {
		metricResumes.WithLabelValues("reset").Inc()
		return head, 0, &resetData{Reason: reason, LastEventID: last, FirstAvailable: state.FirstSeq, Message: resetMessage}, nil
	}
	switch {
	case last > state.LastSeq:
		return resetFor("unknown_position")
	case last > head:
		// The stream is ahead of the hub: the events up to last arrive
		// live and are skipped there.
		metricResumes.WithLabelValues("current").Inc()
		return last, 0, nil, nil
	case last+1 < state.FirstSeq:
		return resetFor("expired")
	}
	n, err := r.replay(ctx, channel, last+1, head, func(f frame) error {
		if err := tr.event(f); err != nil {
			return err
		}
		if replayed++; replayed%batchMax == 0 {
			if err := tr.flush(); err != nil {
				return err
			}
			tr.begin()
		}
		return nil
	})
	metricReplayed.Add(float64(n))
	if errors.Is(err, errTooFar) {
		_, _, reset, _ = resetFor("too_far_behind")
		return head, n, reset, nil
	}
	if err != nil {
		return 0, n, nil, err
	}
	metricResumes.WithLabelValues("replayed").Inc()
	return head, n, nil, nil
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}
