package groups

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wagate/wagate/pkg/names"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/shard"
)

// Methods: the last tokens of wa.rpc.<shard>.<channel>.<method>.
const (
	MethodList         = "group.list"
	MethodInfo         = "group.info"
	MethodCreate       = "group.create"
	MethodParticipants = "group.participants"
	MethodLeave        = "group.leave"
	MethodInvite       = "group.invite"
	MethodJoin         = "group.join"
	MethodUpdate       = "group.update"
	MethodPicture      = "group.picture"
)

// Handler runs a method of a feature package (contacts, calls, blocklist)
// on a channel's active session: it decodes params (see DecodeParams),
// detects the capability it needs on sess by type assertion and returns
// the result, or an error ErrorOf maps to a reply (an *Error keeps its
// code). The worker runs it in the channel's mailbox, bounded by the
// request's deadline, exactly as the group methods.
type Handler func(ctx context.Context, sess any, params json.RawMessage) (any, error)

// DecodeParams decodes the parameters of a request into v, refusing
// unknown fields; empty parameters leave v as it is.
func DecodeParams(params json.RawMessage, v any) error {
	if len(bytes.TrimSpace(params)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeInvalidRequest, "malformed parameters: %v", err)
	}
	return nil
}

// Params is the request body of every method; members a method does not
// use are omitted.
type Params struct {
	// Group is the group's JID (info, participants, leave).
	Group string `json:"group,omitempty"`
	// Name and Participants of a new group (create); Participants and
	// Action (add, remove, promote, demote) of a change (participants).
	Name         string   `json:"name,omitempty"`
	Participants []string `json:"participants,omitempty"`
	Action       string   `json:"action,omitempty"`
	// Key is the Idempotency-Key of a create: the owner answers a retry
	// with the group the first request created.
	Key string `json:"key,omitempty"`
	// Reset revokes the group's invite link and makes a new one (invite).
	Reset bool `json:"reset,omitempty"`
	// Invite is the code of an invite link (join).
	Invite string `json:"invite,omitempty"`
	// Update is the change of the group's settings (update).
	Update *Update `json:"update,omitempty"`
	// JPEG is the group's new picture; empty with Remove (picture).
	JPEG   []byte `json:"jpeg,omitempty"`
	Remove bool   `json:"remove,omitempty"`
}

// Reply is the body of every answer: a result, or an error.
type Reply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
	// Replayed: the result is the one stored for the request's Key.
	Replayed bool `json:"replayed,omitempty"`
}

// Error is a failed request, with a stable code (the Code constants).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Codes of Error. Status gives the HTTP status of each.
const (
	// CodeChannelUnavailable: no worker owns the channel's shard right now
	// (between owners, or every worker down). Nothing ran; retry shortly.
	CodeChannelUnavailable = "channel_unavailable"
	// CodeChannelBusy: the shard's owner holds too many requests already.
	// Nothing ran; retry shortly.
	CodeChannelBusy = "channel_busy"
	// CodeTimeout: the owner ran the request but WhatsApp did not answer
	// in time; the request may or may not have taken effect.
	CodeTimeout = "channel_timeout"
	// CodeOwnerTimeout: the worker running the channel did not answer in
	// time. It skips a request its mailbox reaches after the caller's
	// deadline, so a request still queued then never runs; one already
	// running may or may not take effect.
	CodeOwnerTimeout = "owner_timeout"
	// CodeChannelNotActive: the channel's session is not active (details:
	// its state).
	CodeChannelNotActive = "channel_not_active"
	// CodeChannelNotFound: no such channel.
	CodeChannelNotFound = "channel_not_found"
	CodeInvalidRequest  = "invalid_request"
	CodeGroupNotFound   = "group_not_found"
	CodeNotParticipant  = "not_participant"
	CodeNotAdmin        = "not_admin"
	CodeRateLimited     = "whatsapp_rate_limited"
	// CodeInviteInvalid: no group has the invite code.
	CodeInviteInvalid = "invite_invalid"
	// CodeInviteRevoked: an admin reset the group's invite link since.
	CodeInviteRevoked = "invite_revoked"
	// CodeJoinRefused: WhatsApp refused joining by the link.
	CodeJoinRefused = "join_refused"
	// CodeInvalidImage: WhatsApp refused the picture.
	CodeInvalidImage = "invalid_image"
	// CodeNotSupported: the channel's driver cannot do this.
	CodeNotSupported = "not_supported"
	// CodeWhatsApp: WhatsApp or the connection failed the request.
	CodeWhatsApp = "whatsapp_error"
	// CodeKeyReused: the Idempotency-Key was used for another request.
	CodeKeyReused = "idempotency_key_reused"
)

var statuses = map[string]int{
	CodeChannelUnavailable: http.StatusServiceUnavailable,
	CodeChannelBusy:        http.StatusServiceUnavailable,
	CodeTimeout:            http.StatusGatewayTimeout,
	CodeOwnerTimeout:       http.StatusGatewayTimeout,
	CodeChannelNotActive:   http.StatusConflict,
	CodeChannelNotFound:    http.StatusNotFound,
	CodeInvalidRequest:     http.StatusBadRequest,
	CodeGroupNotFound:      http.StatusNotFound,
	CodeNotParticipant:     http.StatusForbidden,
	CodeNotAdmin:           http.StatusForbidden,
	CodeRateLimited:        http.StatusTooManyRequests,
	CodeInviteInvalid:      http.StatusNotFound,
	CodeInviteRevoked:      http.StatusGone,
	CodeJoinRefused:        http.StatusForbidden,
	CodeInvalidImage:       http.StatusBadRequest,
	CodeNotSupported:       http.StatusNotImplemented,
	CodeWhatsApp:           http.StatusBadGateway,
	CodeKeyReused:          http.StatusUnprocessableEntity,
}

// Status is the HTTP status of an error code (502 for a code it does not
// know, which only a newer worker could send).
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusBadGateway
}

// Errorf builds an Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorOf turns what a driver returned into the Error of a reply.
func ErrorOf(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrGroupNotFound):
		return Errorf(CodeGroupNotFound, "%v", err)
	case errors.Is(err, ErrNotParticipant):
		return Errorf(CodeNotParticipant, "%v", err)
	case errors.Is(err, ErrNotAdmin):
		return Errorf(CodeNotAdmin, "%v", err)
	case errors.Is(err, ErrRateLimited):
		return Errorf(CodeRateLimited, "%v", err)
	case errors.Is(err, ErrInviteInvalid):
		return Errorf(CodeInviteInvalid, "%v", err)
	case errors.Is(err, ErrInviteRevoked):
		return Errorf(CodeInviteRevoked, "%v", err)
	case errors.Is(err, ErrJoinRefused):
		return Errorf(CodeJoinRefused, "%v", err)
	case errors.Is(err, ErrInvalidImage):
		return Errorf(CodeInvalidImage, "%v", err)
	case errors.Is(err, session.ErrInvalid):
		return Errorf(CodeInvalidRequest, "%v", err)
	case errors.Is(err, session.ErrUnsupported):
		return Errorf(CodeNotSupported, "%v", err)
	case errors.Is(err, session.ErrNotConnected), errors.Is(err, session.ErrNotPaired):
		return Errorf(CodeChannelNotActive, "the channel's session is not connected: %v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return Errorf(CodeTimeout, "WhatsApp did not answer in time; the request may or may not have taken effect")
	}
	return Errorf(CodeWhatsApp, "%v", err)
}

// ClientConfig configures a Client.
type ClientConfig struct {
	Conn  *nats.Conn
	Names names.NATS
	// Shards is the fleet's shard count.
	Shards int
	// Timeout bounds a request, from sending it to its answer (default
	// 10 s). The worker gets a slightly shorter deadline, so that a
	// request that runs too long comes back as CodeTimeout from the
	// worker rather than unanswered.
	Timeout time.Duration
}

// DefaultTimeout is the default of ClientConfig.Timeout: room for a
// WhatsApp round trip queued behind a channel's command in progress.
const DefaultTimeout = 10 * time.Second

// Client sends requests to the owners of channels' shards.
type Client struct{ cfg ClientConfig }

// NewClient returns a Client.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg}
}

// Call sends method with params to the owner of channel's shard and
// decodes the result into result (unless nil). A refusal is an *Error:
// from the worker, or CodeChannelUnavailable at once when no worker
// subscribes to the shard, or CodeTimeout when none answered in time.
// Other errors are the NATS connection's, or ctx's.
func (c *Client) Call(ctx context.Context, channel, method string, params, result any) error {
	_, err := c.CallReplay(ctx, channel, method, params, result)
	return err
}

// CallReplay is Call that also reports whether the owner answered with
// the result stored for the request's idempotency key.
func (c *Client) CallReplay(ctx context.Context, channel, method string, params, result any) (replayed bool, err error) {
	body, err := json.Marshal(params)
	if err != nil {
		return false, fmt.Errorf("groups: encode %s: %w", method, err)
	}
	if !c.cfg.Conn.IsConnected() {
		// Nothing is sent: a request made now would wait out its timeout
		// in the reconnect buffer and answer a misleading timeout.
		return false, fmt.Errorf("groups: %s: %w", method, nats.ErrDisconnected)
	}
	deadline := time.Now().Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	margin := min(time.Until(deadline)/10, 500*time.Millisecond)
	msg := nats.NewMsg(c.cfg.Names.RPC(shard.Of(channel, c.cfg.Shards), channel, method))
	msg.Data = body
	msg.Header.Set(names.HeaderDeadline, deadline.Add(-margin).UTC().Format(time.RFC3339Nano))
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp, err := c.cfg.Conn.RequestMsgWithContext(rctx, msg)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return false, Errorf(CodeChannelUnavailable, "no worker runs channel %s right now (its shard is between owners); retry shortly", channel)
	case err != nil && ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return false, Errorf(CodeOwnerTimeout, "the worker running channel %s did not answer within %s; a request it had not started is dropped, one it had started may or may not have taken effect", channel, c.cfg.Timeout)
	case err != nil:
		return false, fmt.Errorf("groups: %s: %w", method, err)
	}
	var r Reply
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return false, fmt.Errorf("groups: %s: unreadable reply: %w", method, err)
	}
	if r.Error != nil {
		return false, r.Error
	}
	if result == nil {
		return r.Replayed, nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return false, fmt.Errorf("groups: %s: unreadable result: %w", method, err)
	}
	return r.Replayed, nil
}
