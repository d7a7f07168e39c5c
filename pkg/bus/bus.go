package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/names"
)

// ErrServerTooOld is returned when the NATS server predates 2.10.
var ErrServerTooOld = errors.New("bus: NATS server too old")

// Bus is a NATS connection with its JetStream context and the fleet's names.
type Bus struct {
	Conn  *nats.Conn
	JS    jetstream.JetStream
	Names names.NATS
}

// Connect dials url (or uses an in-process connection option from the
// embedded server), checks the server version, and returns the bus.
func Connect(ctx context.Context, url string, n names.NATS, opts ...nats.Option) (*Bus, error) {
	opts = append([]nats.Option{
		nats.Name("wagate"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to NATS at %s: %w (is the server running with JetStream enabled?)", url, err)
	}
	if err := CheckVersion(nc.ConnectedServerVersion()); err != nil {
		nc.Close()
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return &Bus{Conn: nc, JS: js, Names: n}, nil
}

// Close drains nothing and closes the connection.
func (b *Bus) Close() { b.Conn.Close() }

// CheckVersion refuses servers older than 2.10.
func CheckVersion(v string) error {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("%w: cannot read server version %q", ErrServerTooOld, v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: cannot read server version %q", ErrServerTooOld, v)
	}
	if major < 2 || (major == 2 && minor < 10) {
		return fmt.Errorf("%w: server is %s, wagate needs ≥ 2.10 for stream subject transforms; upgrade NATS or leave WAGATE_NATS_URL empty to use the gateway's embedded server", ErrServerTooOld, v)
	}
	return nil
}

// StreamOptions size the streams.
type StreamOptions struct {
	Shards      int
	EventMaxAge time.Duration
	// Replicas for clustered servers (default 1).
	Replicas int
}

// EnsureStreams creates or updates WA_CMD, WA_EVT and WA_WEBHOOK.
func (b *Bus) EnsureStreams(ctx context.Context, o StreamOptions) error {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.EventMaxAge <= 0 {
		o.EventMaxAge = 72 * time.Hour
	}
	n := b.Names
	cfgs := []jetstream.StreamConfig{{
		Name:        n.CmdStream(),
		Description: "wagate commands, partitioned by shard",
		Subjects:    []string{n.CmdIn()},
		SubjectTransform: &jetstream.SubjectTransformConfig{
			Source:      n.CmdIn(),
			Destination: n.CmdTransformDest(o.Shards),
		},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: 24 * time.Hour,
		MaxAge:     7 * 24 * time.Hour,
		Replicas:   o.Replicas,
	}, {
		Name:        n.EvtStream(),
		Description: "wagate events",
		Subjects:    []string{n.EvtAll()},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  10 * time.Minute,
		MaxAge:      o.EventMaxAge,
		Replicas:    o.Replicas,
	}, {
		Name:        n.WebhookStream(),
		Description: "wagate webhook deliveries, one message per event and endpoint",
		Subjects:    []string{n.WebhookAll()},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  time.Hour,
		Replicas:    o.Replicas,
	}}
	for _, cfg := range cfgs {
		if err := b.ensureStream(ctx, cfg); err != nil {
			return err
		}
	}
	return nil
}

// ensureStream creates the stream or updates it when its configuration
// differs from cfg, and leaves it alone when it is in shape: only the api
// (and `api migrate`) may create or update streams on a NATS with
// authentication, so workers and dispatchers must find them as they want
// them.
func (b *Bus) ensureStream(ctx context.Context, cfg jetstream.StreamConfig) error {
	st, err := b.JS.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err := b.JS.CreateStream(ctx, cfg); err != nil {
			return fmt.Errorf("bus: create stream %s: %w%s", cfg.Name, err, permissionHint(err))
		}
		return nil
	case err != nil:
		return fmt.Errorf("bus: stream %s: %w%s", cfg.Name, err, permissionHint(err))
	}
	if streamInShape(st.CachedInfo().Config, cfg) {
		return nil
	}
	if _, err := b.JS.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("bus: update stream %s: %w%s", cfg.Name, err, permissionHint(err))
	}
	return nil
}

// streamInShape reports whether have has every setting of want that
// EnsureStreams sets.
func streamInShape(have, want jetstream.StreamConfig) bool {
	if !slices.Equal(have.Subjects, want.Subjects) || have.Description != want.Description ||
		have.Retention != want.Retention || have.Storage != want.Storage ||
		have.Duplicates != want.Duplicates || have.MaxAge != want.MaxAge || have.Replicas != want.Replicas {
		return false
	}
	if (have.SubjectTransform == nil) != (want.SubjectTransform == nil) {
		return false
	}
	return want.SubjectTransform == nil || *have.SubjectTransform == *want.SubjectTransform
}

// permissionHint explains a refused stream change.
func permissionHint(err error) string {
	if err == nil || (!strings.Contains(strings.ToLower(err.Error()), "permission") && !errors.Is(err, context.DeadlineExceeded)) {
		return ""
	}
	return " (is this credential allowed to manage streams? workers and dispatchers are not: run `api migrate` with the api or admin credential first, with the same WAGATE_SHARDS, WAGATE_EVENT_MAX_AGE and WAGATE_NATS_REPLICAS)"
}

// publishTimeout bounds the wait for the ack of an asynchronous publish,
// as JetStream's default API timeout bounds a synchronous one.
const publishTimeout = 5 * time.Second

// PublishEvent stores ev in WA_EVT, de-duplicated by its id.
func (b *Bus) PublishEvent(ctx context.Context, ev event.Envelope) (*jetstream.PubAck, error) {
	msg, err := b.eventMsg(ev)
	if err != nil {
		return nil, err
	}
	ack, err := b.JS.PublishMsg(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("bus: publish %s: %w", ev.Type, err)
	}
	return ack, nil
}

// PublishEvents stores evs in WA_EVT in order, each de-duplicated by its
// id as PublishEvent does, without waiting for one ack before sending the
// next; it returns when every ack arrived or failed, with the failures.
func (b *Bus) PublishEvents(ctx context.Context, evs []event.Envelope) error {
	type pending struct {
		typ string
		f   jetstream.PubAckFuture
	}
	futures := make([]pending, 0, len(evs))
	var errs []error
	for _, ev := range evs {
		msg, err := b.eventMsg(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := b.JS.PublishMsgAsync(msg)
		if err != nil {
			errs = append(errs, fmt.Errorf("bus: publish %s: %w", ev.Type, err))
			continue
		}
		futures = append(futures, pending{ev.Type, f})
	}
	for _, p := range futures {
		select {
		case <-p.f.Ok():
		case err := <-p.f.Err():
			errs = append(errs, fmt.Errorf("bus: publish %s: %w", p.typ, err))
		case <-ctx.Done():
			return errors.Join(append(errs, fmt.Errorf("bus: publish %s: %w", p.typ, ctx.Err()))...)
		}
	}
	return errors.Join(errs...)
}

// eventMsg is the message of ev in WA_EVT, with its id as the
// de-duplication key and its epoch as a header.
func (b *Bus) eventMsg(ev event.Envelope) (*nats.Msg, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("bus: encode event: %w", err)
	}
	msg := &nats.Msg{Subject: b.Names.Evt(ev.ChannelID, ev.Type), Data: data, Header: nats.Header{}}
	msg.Header.Set(names.HeaderMsgID, ev.ID)
	msg.Header.Set(names.HeaderEpoch, strconv.FormatInt(ev.Epoch, 10))
	return msg, nil
}

// PublishCommand stores a command for channel in WA_CMD. msgID, when not
// empty, de-duplicates it (the idempotency key).
func (b *Bus) PublishCommand(ctx context.Context, channel, verb, msgID string, body []byte) error {
	if _, err := b.JS.PublishMsg(ctx, b.commandMsg(channel, verb, msgID, body)); err != nil {
		return fmt.Errorf("bus: publish command %s: %w", verb, err)
	}
	return nil
}

// PublishCommandAsync is PublishCommand without waiting: the future
// reports whether WA_CMD stored it.
func (b *Bus) PublishCommandAsync(channel, verb, msgID string, body []byte) (jetstream.PubAckFuture, error) {
	f, err := b.JS.PublishMsgAsync(b.commandMsg(channel, verb, msgID, body))
	if err != nil {
		return nil, fmt.Errorf("bus: publish command %s: %w", verb, err)
	}
	return f, nil
}

func (b *Bus) commandMsg(channel, verb, msgID string, body []byte) *nats.Msg {
	msg := &nats.Msg{Subject: b.Names.Cmd(channel, verb), Data: body, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(names.HeaderMsgID, msgID)
	}
	return msg
}
