package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/wagate/wagate/pkg/blocklist"
	"github.com/wagate/wagate/pkg/calls"
	"github.com/wagate/wagate/pkg/chats"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/shard"
	"github.com/wagate/wagate/pkg/state"
)

// This file answers requests (wa.rpc.<shard>.<channel>.<method>, see
// package groups): the owner of a shard subscribes to its requests while
// it holds the shard's epoch and runs each in the channel's mailbox.

// groupReader and groupWriter are the optional group capability of a
// session (package groups documents the contract).
type (
	groupReader interface {
		ListGroups(ctx context.Context) ([]groups.Group, error)
		GroupInfo(ctx context.Context, group string) (groups.Group, error)
	}
	groupWriter interface {
		CreateGroup(ctx context.Context, name string, participants []string) (groups.Created, error)
		UpdateParticipants(ctx context.Context, group, action string, participants []string) ([]groups.ParticipantResult, error)
		LeaveGroup(ctx context.Context, group string) error
	}
)

var metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "wagate_worker_requests_total", Help: "Requests (wa.rpc) answered, by method and outcome (ok or the error code).",
}, []string{"method", "outcome"})

// maxPendingRequests bounds the requests one shard holds in its mailboxes.
const maxPendingRequests = 256

// defaultRequestBudget bounds a request that names no deadline.
const defaultRequestBudget = groups.DefaultTimeout

// shardRequests is the request side of an owned shard.
type shardRequests struct {
	sub     *nats.Subscription // guarded by shardRun.mu
	pending atomic.Int32
}

// request is one request on its way to, or in, a channel's mailbox.
type request struct {
	msg      *nats.Msg
	method   string
	deadline time.Time
	// pending is the shard's count this request holds a place in (nil
	// until it is queued).
	pending *atomic.Int32
}

// subscribeRequests starts answering the shard's requests.
func (sr *shardRun) subscribeRequests() error {
	n := sr.w.cfg.Bus.Names
	sub, err := sr.w.cfg.Bus.Conn.QueueSubscribe(n.RPCShardFilter(sr.k), n.RPCQueue(), sr.onRequest)
	if err != nil {
		return fmt.Errorf("worker: subscribe to the requests of shard %d: %w", sr.k, err)
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.ctx.Err() != nil {
		_ = sub.Unsubscribe()
		return nil
	}
	sr.requests.sub = sub
	return nil
}

// unsubscribeRequests stops taking requests; those delivered already are
// answered (CodeChannelUnavailable, since the shard stopped).
func (sr *shardRun) unsubscribeRequests() {
	sr.mu.Lock()
	sub := sr.requests.sub
	sr.requests.sub = nil
	sr.mu.Unlock()
	if sub != nil {
		_ = sub.Drain()
	}
}

// onRequest routes a request to its channel's mailbox.
func (sr *shardRun) onRequest(msg *nats.Msg) {
	k, channelID, method, perr := sr.w.cfg.Bus.Names.ParseRPC(msg.Subject)
	if msg.Reply == "" {
		metricRequests.WithLabelValues(methodLabel(method), "no_reply_inbox").Inc()
		return // nobody would learn the outcome: do not run it
	}
	r := &request{msg: msg, method: method, deadline: time.Now().Add(defaultRequestBudget)}
	var derr error
	if v := msg.Header.Get(names.HeaderDeadline); v != "" {
		r.deadline, derr = time.Parse(time.RFC3339Nano, v)
	}
	switch {
	case perr != nil || k != sr.k || shard.Of(channelID, sr.w.cfg.Shards) != k:
		r.answer(nil, groups.Errorf(groups.CodeInvalidRequest, "malformed request subject %q (the shard must be the channel's)", msg.Subject))
		return
	case derr != nil:
		r.answer(nil, groups.Errorf(groups.CodeInvalidRequest, "header %s is not an RFC 3339 time", names.HeaderDeadline))
		return
	case sr.ctx.Err() != nil:
		r.answer(nil, errShardStopped)
		return
	}
	if sr.requests.pending.Add(1) > maxPendingRequests {
		sr.requests.pending.Add(-1)
		r.answer(nil, groups.Errorf(groups.CodeChannelBusy, "the worker running this channel holds %d requests already; retry shortly", maxPendingRequests))
		return
	}
	r.pending = &sr.requests.pending
	sr.channel(channelID).enqueue(job{req: r})
}

var errShardStopped = groups.Errorf(groups.CodeChannelUnavailable, "the worker is handing the channel's shard over; retry shortly")

// answer replies with result or err and frees the request's place.
func (r *request) answer(result any, err error) {
	r.release()
	var rep groups.Reply
	outcome := "ok"
	if raw, ok := result.(replayed); ok && err == nil {
		rep.Result, rep.Replayed = json.RawMessage(raw), true
		outcome = "replayed"
	} else if err != nil {
		rep.Error = groups.ErrorOf(err)
		outcome = rep.Error.Code
	} else if rep.Result, err = json.Marshal(result); err != nil {
		rep.Error = groups.Errorf(groups.CodeWhatsApp, "cannot encode the result: %v", err)
		outcome = rep.Error.Code
	}
	data, _ := json.Marshal(rep) // a Reply of valid JSON always encodes
	out := &nats.Msg{Subject: r.msg.Reply, Data: data, Header: nats.Header{}}
	if rep.Error != nil {
		out.Header.Set(names.HeaderError, rep.Error.Code)
	}
	_ = r.msg.RespondMsg(out) // the caller may be gone: nothing to do then
	metricRequests.WithLabelValues(methodLabel(r.method), outcome).Inc()
}

// methodLabel keeps the metric's methods to the known ones: a subject can
// carry anything.
func methodLabel(m string) string {
	if _, ok := requestMethods[m]; ok {
		return m
	}
	if _, ok := featureMethods[m]; ok {
		return m
	}
	return "unknown"
}

func (r *request) release() {
	if r.pending != nil {
		r.pending.Add(-1)
		r.pending = nil
	}
}

// handleRequest runs a request in the mailbox, bounded by its deadline.
func (c *channelRun) handleRequest(ctx context.Context, r *request) {
	if time.Now().After(r.deadline) {
		// The caller gave up: running it now would surprise it.
		r.release()
		metricRequests.WithLabelValues(methodLabel(r.method), "expired").Inc()
		return
	}
	ctx, cancel := context.WithDeadline(ctx, r.deadline)
	defer cancel()
	res, err := c.request(ctx, r)
	if errors.Is(err, context.DeadlineExceeded) {
		c.log.Warn("request ran past its deadline", "method", r.method, "err", err)
	}
	r.answer(res, err)
}

func (c *channelRun) request(ctx context.Context, r *request) (any, error) {
	do, ok := requestMethods[r.method]
	feature, isFeature := featureMethods[r.method]
	if !ok && !isFeature {
		return nil, groups.Errorf(groups.CodeInvalidRequest, "unknown method %q", r.method)
	}
	var p groups.Params
	if ok {
		if err := groups.DecodeParams(r.msg.Data, &p); err != nil {
			return nil, err
		}
	}
	if c.sess == nil || c.state != state.Active {
		if c.sess == nil {
			exists, err := c.load(ctx)
			if err != nil {
				return nil, groups.Errorf(groups.CodeChannelUnavailable, "cannot read the channel: %v", err)
			}
			if !exists {
				c.sr.forget(c.id)
				return nil, groups.Errorf(groups.CodeChannelNotFound, "no channel %s", c.id)
			}
		}
		st := orDefault(c.state, state.Inactive)
		e := groups.Errorf(groups.CodeChannelNotActive, "channel %s is %s; it must be active (start it, and pair it if needed)", c.id, st)
		e.Details = map[string]string{"state": st}
		return nil, e
	}
	if isFeature {
		res, err := feature(ctx, c.sess, r.msg.Data)
		if a, ok := res.(announcer); ok && err == nil {
			c.announce(ctx, a) // calls.go
		}
		if a, ok := res.(chats.Applied); ok && err == nil {
			// Answered once recorded: a read right after the answer
			// sees the change.
			if err := c.recordChatChange(ctx, a.Change); err != nil {
				return nil, err
			}
		}
		return res, err
	}
	return do(ctx, c, p)
}

// announcer is a feature method's result that is also an event, published
// once the method succeeded (calls.Rejected: call.rejected).
type announcer interface{ Event() (string, any) }

// featureMethods are the methods of the feature packages (contacts,
// calls, blocklist): each package owns its methods and the capability
// they need; the worker only runs them in the mailbox of an active
// channel.
var featureMethods = func() map[string]groups.Handler {
	out := map[string]groups.Handler{}
	for _, ms := range []map[string]groups.Handler{groups.Methods, contacts.Methods, calls.Methods, blocklist.Methods, chats.Methods} {
		maps.Copy(out, ms)
	}
	return out
}()

// requestMethods run the methods on the channel's session.
var requestMethods = map[string]func(context.Context, *channelRun, groups.Params) (any, error){
	groups.MethodList: func(ctx context.Context, c *channelRun, _ groups.Params) (any, error) {
		g, ok := c.sess.(groupReader)
		if !ok {
			return nil, errNoGroups
		}
		list, err := g.ListGroups(ctx)
		if list == nil {
			list = []groups.Group{}
		}
		return list, err
	},
	groups.MethodInfo: func(ctx context.Context, c *channelRun, p groups.Params) (any, error) {
		g, ok := c.sess.(groupReader)
		if !ok {
			return nil, errNoGroups
		}
		if p.Group == "" {
			return nil, errNoGroup
		}
		return g.GroupInfo(ctx, p.Group)
	},
	groups.MethodCreate: func(ctx context.Context, c *channelRun, p groups.Params) (any, error) {
		g, ok := c.sess.(groupWriter)
		if !ok {
			return nil, errNoGroups
		}
		if p.Name == "" {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "name is required")
		}
		return c.createGroupOnce(ctx, p, func() (groups.Created, error) { return g.CreateGroup(ctx, p.Name, p.Participants) })
	},
	groups.MethodParticipants: func(ctx context.Context, c *channelRun, p groups.Params) (any, error) {
		g, ok := c.sess.(groupWriter)
		if !ok {
			return nil, errNoGroups
		}
		if p.Group == "" {
			return nil, errNoGroup
		}
		if len(p.Participants) == 0 {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "participants are required")
		}
		res, err := g.UpdateParticipants(ctx, p.Group, p.Action, p.Participants)
		if err != nil {
			return nil, err
		}
		return groups.Changed{Group: p.Group, Action: p.Action, Participants: res}, nil
	},
	groups.MethodLeave: func(ctx context.Context, c *channelRun, p groups.Params) (any, error) {
		g, ok := c.sess.(groupWriter)
		if !ok {
			return nil, errNoGroups
		}
		if p.Group == "" {
			return nil, errNoGroup
		}
		if err := g.LeaveGroup(ctx, p.Group); err != nil {
			return nil, err
		}
		return groups.Left{Group: p.Group, Left: true}, nil
	},
}

var (
	errNoGroups = groups.Errorf(groups.CodeNotSupported, "the channel's driver does not support groups")
	errNoGroup  = groups.Errorf(groups.CodeInvalidRequest, "group is required")
)
