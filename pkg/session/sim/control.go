package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// Controller drives the phone and server side of a simulated session: a
// scan, an inbound message, a ban. The worker detects it on a
// session.Session by type assertion and routes the "sim" command to it;
// the API exposes it as POST /v1/sim/channels/{id}/<action>. Like the other
// session methods, Control is called from the channel's mailbox goroutine.
//
// Control returns a JSON object (for example the JID a scan linked), an
// error wrapping session.ErrInvalid for an unknown action or bad
// arguments, or session.ErrNotConnected when the action needs a
// connection the session does not have. Events it causes reach the Sink
// on the driver's goroutines, as any other event. See the package
// documentation for the actions and their arguments.
type Controller interface {
	Control(ctx context.Context, action string, args json.RawMessage) (json.RawMessage, error)
}

// Control actions.
const (
	ActionScan           = "scan"
	ActionInbound        = "inbound"
	ActionReceipt        = "receipt"
	ActionReaction       = "reaction"
	ActionPresence       = "presence"
	ActionCall           = "call"
	ActionGroup          = "group"
	ActionDisconnect     = "disconnect"
	ActionLogout         = "logout"
	ActionBan            = "ban"
	ActionStreamReplaced = "stream_replaced"
	ActionConnectFailure = "connect_failure"
	ActionClientOutdated = "client_outdated"
	ActionSendFailure    = "send_failure"
	ActionVote           = "vote"
	ActionRetryReceipt   = "retry_receipt"
)

// An action is a control action and the Go type of its arguments, which
// is the body of POST /v1/sim/channels/{id}/<action> (the OpenAPI's
// Sim…Args schemas describe them; a test keeps the two equal).
type action struct {
	run  func(*Session, context.Context, json.RawMessage) (any, error)
	args reflect.Type
}

// act makes an action of run: its arguments are decoded, refusing unknown
// fields, over a copy of defaults.
func act[A any](run func(*Session, context.Context, A) (any, error), defaults A) action {
	return action{
		run: func(s *Session, ctx context.Context, raw json.RawMessage) (any, error) {
			a := defaults
			if err := decode(raw, &a); err != nil {
				return nil, err
			}
			return run(s, ctx, a)
		},
		args: reflect.TypeFor[A](),
	}
}

// noArgs are the arguments of an action that takes none.
type noArgs struct{}

var actions = map[string]action{
	ActionScan:           act((*Session).scan, scanArgs{Platform: "android"}),
	ActionInbound:        act((*Session).inboundMessage, inboundArgs{}),
	ActionReceipt:        act((*Session).receiptControl, receiptArgs{Status: "read"}),
	ActionReaction:       act((*Session).reaction, reactionArgs{}),
	ActionPresence:       act((*Session).presence, presenceArgs{State: "available"}),
	ActionCall:           act((*Session).call, callArgs{}),
	ActionGroup:          act((*Session).group, groupArgs{}),
	ActionDisconnect:     act((*Session).remoteDisconnect, noArgs{}),
	ActionLogout:         act((*Session).phoneLogout, noArgs{}),
	ActionBan:            act((*Session).ban, banArgs{Seconds: 3600, Code: "101"}),
	ActionStreamReplaced: act((*Session).streamReplaced, noArgs{}),
	ActionConnectFailure: act((*Session).connectFailure, connectFailureArgs{Reason: "503", Message: "service unavailable"}),
	ActionClientOutdated: act((*Session).clientOutdated, noArgs{}),
	ActionSendFailure:    act((*Session).sendFailure, sendFailureArgs{Times: 1, Code: 500}),
	ActionVote:           act((*Session).vote, voteArgs{}),
	ActionRetryReceipt:   act((*Session).retryReceipt, retryReceiptArgs{}),
}

// ArgumentsOf returns the Go type of an action's arguments: a struct whose
// JSON fields are the body the action takes.
func ArgumentsOf(action string) (reflect.Type, bool) {
	a, ok := actions[action]
	return a.args, ok
}

// Actions lists the control actions, sorted, for callers that validate an
// action before routing it to a session.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Control performs a control action; see Controller.
func (s *Session) Control(ctx context.Context, action string, args json.RawMessage) (json.RawMessage, error) {
	a, ok := actions[action]
	if !ok {
		return nil, fmt.Errorf("%w: unknown simulator action %q", session.ErrInvalid, action)
	}
	res, err := a.run(s, ctx, args)
	if err != nil {
		return nil, fmt.Errorf("sim: %s: %w", action, err)
	}
	if res == nil {
		res = struct{}{}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("sim: %s: %w", action, err)
	}
	return raw, nil
}

// decode reads the arguments of an action into v, refusing unknown fields
// so a typo does not pass silently. Empty arguments leave v as it is.
func decode(args json.RawMessage, v any) error {
	args = bytes.TrimSpace(args)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: arguments: %v", session.ErrInvalid, err)
	}
	return nil
}

type scanArgs struct {
	Phone        string `json:"phone"`
	PushName     string `json:"push_name"`
	BusinessName string `json:"business_name"`
	Platform     string `json:"platform"`
	Code         string `json:"code"`
	// History, when set, is the history WhatsApp sends once the device is
	// online (history.go).
	History *historyArgs `json:"history"`
}

// ScanResult is what the action scan returns.
type ScanResult struct {
	JID   string `json:"jid"`
	Phone string `json:"phone"`
}

// scan links the device as a phone does when it scans the QR code or
// enters the pairing code: the device is stored, PairSuccess is emitted,
// and Connected follows after ConnectDelay.
func (s *Session) scan(ctx context.Context, a scanArgs) (any, error) {
	phone := ""
	if a.Phone != "" {
		var err error
		if phone, err = validatePhone(a.Phone); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	switch s.phase {
	case offline:
		s.mu.Unlock()
		return nil, session.ErrNotConnected
	case connecting, connected:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: already paired", session.ErrInvalid)
	}
	p := s.pair
	var err error
	switch {
	case a.Code != "" && p.code == "":
		err = fmt.Errorf("%w: no pairing code was issued", session.ErrInvalid)
	case a.Code != "" && a.Code != p.code:
		err = fmt.Errorf("%w: pairing code does not match", session.ErrInvalid)
	case p.phone != "" && phone != "" && phone != p.phone:
		err = fmt.Errorf("%w: the pairing code was issued for another number", session.ErrInvalid)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if phone == "" {
		phone = p.phone
	}
	if phone == "" {
		phone = randomPhone()
	}
	// The codes stop rotating while the phone links the device.
	s.timer.Stop()
	s.timer = nil
	s.gen++
	gen, identity := s.gen, p.identity
	s.mu.Unlock()

	dev, conn, err := s.link(ctx, phone, a, identity)
	s.mu.Lock()
	if err == nil && s.gen != gen {
		err = session.ErrNotConnected
	}
	if err != nil {
		var start bool
		if s.gen == gen {
			s.closeLocked()
			start = s.post(session.PairError{Reason: err.Error()})
		}
		s.mu.Unlock()
		s.kick(start)
		if dev != nil {
			ctx := context.WithoutCancel(ctx)
			s.d.release(ctx, marker{dev.JID, conn})
			_, _ = s.d.cfg.Store.DeleteSimDevice(ctx, dev.JID)
		}
		return nil, err
	}
	s.gen++
	gen = s.gen
	s.pair = nil
	s.jid, s.conn, s.phase = dev.JID, conn, connecting
	s.d.register(s, dev.JID, conn)
	hist, own := a.History, dev.JID
	s.timer = time.AfterFunc(s.d.cfg.scale(s.d.cfg.ConnectDelay), func() {
		s.online(gen)
		if hist != nil {
			go s.sendHistory(gen, own, *hist)
		}
	})
	start := s.post(session.PairSuccess{JID: dev.JID, Phone: dev.Phone, PushName: dev.PushName,
		BusinessName: a.BusinessName, Platform: dev.Platform})
	s.mu.Unlock()
	s.kick(start)
	return ScanResult{JID: dev.JID, Phone: dev.Phone}, nil
}

// link stores a new device of phone and marks its connection live. dev is
// set when the device was stored, even if marking it failed.
func (s *Session) link(ctx context.Context, phone string, a scanArgs, identity []byte) (dev *store.SimDevice, conn string, err error) {
	for range 8 { // companion device numbers are small: retry a taken one
		dev = &store.SimDevice{JID: deviceJID(phone, 1+randomInt(99)), ChannelID: s.channelID, Phone: phone,
			PushName: a.PushName, Platform: a.Platform, Identity: identity}
		if err = s.d.cfg.Store.InsertSimDevice(ctx, dev); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, "", err
	}
	conn = newConnID()
	return dev, conn, s.d.acquire(ctx, s.channelID, dev.JID, conn)
}
