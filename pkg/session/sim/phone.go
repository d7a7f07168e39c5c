package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
)

// This file holds the control actions other than scan: what a phone, its
// contacts and the WhatsApp server do to a session.

// IDResult is what actions that create a message, call or group return.
type IDResult struct {
	ID string `json:"id"`
}

// emitConnected posts ev if the session is connected.
func (s *Session) emitConnected(ev session.Event) error {
	s.mu.Lock()
	if s.phase != connected {
		s.mu.Unlock()
		return session.ErrNotConnected
	}
	start := s.post(ev)
	s.mu.Unlock()
	s.kick(start)
	return nil
}

// drop closes a live or pairing connection as the server does, reporting ev.
func (s *Session) drop(ctx context.Context, ev session.Event) error {
	s.mu.Lock()
	if s.phase == offline {
		s.mu.Unlock()
		return session.ErrNotConnected
	}
	m := s.closeLocked()
	start := s.post(ev)
	s.mu.Unlock()
	s.kick(start)
	s.d.release(ctx, m)
	return nil
}

type inboundArgs struct {
	ID       string `json:"id"`
	From     string `json:"from"`
	Chat     string `json:"chat"`
	Type     string `json:"type"`
	Text     string `json:"text"`
	PushName string `json:"push_name"`
	// Addressing sets how WhatsApp addresses the contact from now on:
	// "lid" or "pn" (see lid.go).
	Addressing string `json:"addressing"`
	// Media messages (type image, audio, document, video, sticker):
	// the generated file's size in bytes (default by type), name and
	// caption; Expired makes the media server forget it at once (a
	// download needs a media retry), Gone the phone as well.
	Size     int64  `json:"size"`
	FileName string `json:"file_name"`
	Caption  string `json:"caption"`
	Expired  bool   `json:"expired"`
	Gone     bool   `json:"gone"`
	// Undecryptable makes the message arrive as the whatsmeow driver
	// reports one it could not decrypt at first: message.undecryptable,
	// then, once the phone answered the retry receipt, the message itself
	// under the same id.
	Undecryptable bool `json:"undecryptable"`
}

func (s *Session) inboundMessage(ctx context.Context, a inboundArgs) (any, error) {
	from, chat, err := fromAndChat(a.From, a.Chat)
	if err != nil {
		return nil, err
	}
	d := session.MessageData{ID: a.ID, Chat: chat, From: from, Type: a.Type, Text: a.Text, PushName: a.PushName, Timestamp: s.d.cfg.Now()}
	if err := s.addressMessage(ctx, &d, a.Addressing); err != nil {
		return nil, err
	}
	if d.ID == "" {
		d.ID = randomMessageID()
	}
	if d.Type == "" {
		d.Type = "text"
	}
	var ref *session.MediaRef
	if _, isMedia := mediaTypes[d.Type]; isMedia {
		if d.Media, ref, err = simMedia(d.Type, d.ID, a.Size, a.FileName, a.Caption); err != nil {
			return nil, err
		}
		ref.MessageID, ref.Chat, ref.Sender, ref.IsGroup = d.ID, d.Chat, d.From, strings.HasSuffix(d.Chat, "@g.us")
		if a.Expired || a.Gone {
			if err := s.expireMedia(ctx, ref.DirectPath, d.ID, a.Gone); err != nil {
				return nil, err
			}
		}
	} else if a.Size != 0 || a.FileName != "" || a.Expired || a.Gone {
		return nil, fmt.Errorf("%w: size, file_name, expired and gone apply to media messages only", session.ErrInvalid)
	}
	if a.Undecryptable {
		u := session.MessageData{ID: d.ID, Chat: d.Chat, ChatLID: d.ChatLID, From: d.From, FromLID: d.FromLID,
			AddressingMode: d.AddressingMode, Type: "undecryptable", PushName: d.PushName, Timestamp: d.Timestamp}
		if err := s.emitConnected(inbound(event.MessageUndecryptable, d.Timestamp, u)); err != nil {
			return nil, err
		}
	}
	ev := inbound(event.MessageReceived, d.Timestamp, d)
	ev.Media = ref
	return IDResult{ID: d.ID}, s.deliverInbound(ctx, d.ID, ev)
}

type receiptArgs struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	From   string `json:"from"`
	Chat   string `json:"chat"`
}

func (s *Session) receiptControl(ctx context.Context, a receiptArgs) (any, error) {
	if a.ID == "" {
		return nil, fmt.Errorf("%w: id is required", session.ErrInvalid)
	}
	if _, ok := receiptTypes[a.Status]; !ok {
		return nil, fmt.Errorf("%w: status %q is not delivered, read, played or server_error", session.ErrInvalid, a.Status)
	}
	var from, chat, chatLID string
	if a.From != "" || a.Chat != "" {
		var err error
		if from, chat, err = fromAndChat(a.From, a.Chat); err != nil {
			return nil, err
		}
		if chatLID, err = s.lidOf(ctx, chat); err != nil {
			return nil, err
		}
	}
	return nil, s.emitConnected(receiptEvent(a.ID, chat, chatLID, from, a.Status, s.d.cfg.Now()))
}

type reactionArgs struct {
	From  string `json:"from"`
	Chat  string `json:"chat"`
	ID    string `json:"id"`
	Emoji string `json:"emoji"`
}

func (s *Session) reaction(ctx context.Context, a reactionArgs) (any, error) {
	if a.ID == "" {
		return nil, fmt.Errorf("%w: id of the message reacted to is required", session.ErrInvalid)
	}
	from, chat, err := fromAndChat(a.From, a.Chat)
	if err != nil {
		return nil, err
	}
	d := session.ReactionData{ID: randomMessageID(), MessageID: a.ID, Chat: chat, From: from, Emoji: a.Emoji, Timestamp: s.d.cfg.Now()}
	if d.FromLID, err = s.lidOf(ctx, from); err != nil {
		return nil, err
	}
	if chat == from {
		d.ChatLID = d.FromLID
	}
	return IDResult{ID: d.ID}, s.emitConnected(inbound(event.MessageReaction, d.Timestamp, d))
}

type callArgs struct {
	ID    string `json:"id"`
	From  string `json:"from"`
	Video bool   `json:"video"`
	// Status is what happens to the call, as the whatsmeow driver reports
	// it: offer (ringing, the default), offer_notice (a group call),
	// accept, reject or terminate (with Reason).
	Status string `json:"status"`
	Group  string `json:"group"`
	Reason string `json:"reason"`
}

// callStatuses are the call events the whatsmeow driver reports.
var callStatuses = []string{"offer", "offer_notice", "accept", "reject", "terminate"}

func (s *Session) call(ctx context.Context, a callArgs) (any, error) {
	from, err := toJID(a.From)
	if err != nil {
		return nil, err
	}
	if a.Status == "" {
		a.Status = "offer"
		if a.Group != "" {
			a.Status = "offer_notice"
		}
	}
	switch {
	case !slices.Contains(callStatuses, a.Status):
		return nil, fmt.Errorf("%w: call status %q is not one of %s", session.ErrInvalid, a.Status, strings.Join(callStatuses, ", "))
	case a.Group != "" && !strings.HasSuffix(a.Group, "@g.us"):
		return nil, fmt.Errorf("%w: group %q is not a group JID (…@g.us)", session.ErrInvalid, a.Group)
	case a.Reason != "" && a.Status != "terminate":
		return nil, fmt.Errorf("%w: a reason is told only when a call terminates", session.ErrInvalid)
	}
	// As WhatsApp: only an offer says whether the call is a video call.
	video := a.Video && (a.Status == "offer" || a.Status == "offer_notice")
	d := session.CallData{ID: a.ID, From: from, Group: a.Group, Video: video, Status: a.Status, Reason: a.Reason, Timestamp: s.d.cfg.Now()}
	if d.FromLID, err = s.lidOf(ctx, from); err != nil {
		return nil, err
	}
	if d.ID == "" {
		d.ID = strings.ToUpper(newConnID() + newConnID())
	}
	return IDResult{ID: d.ID}, s.emitConnected(inbound(event.CallReceived, d.Timestamp, d))
}

var groupEvents = map[string]string{
	"created":        event.GroupCreated,
	"member_added":   event.GroupMemberAdded,
	"member_removed": event.GroupMemberRemoved,
	"updated":        event.GroupUpdated,
}

type groupArgs struct {
	Event        string   `json:"event"`
	Group        string   `json:"group"`
	Name         string   `json:"name"`
	Topic        string   `json:"topic"`
	Participants []string `json:"participants"`
	By           string   `json:"by"`
}

func (s *Session) group(_ context.Context, a groupArgs) (any, error) {
	typ, ok := groupEvents[a.Event]
	if !ok {
		return nil, fmt.Errorf("%w: event %q is not created, member_added, member_removed or updated", session.ErrInvalid, a.Event)
	}
	if (a.Event == "member_added" || a.Event == "member_removed") && len(a.Participants) == 0 {
		return nil, fmt.Errorf("%w: %s needs participants", session.ErrInvalid, a.Event)
	}
	d := session.GroupData{Group: a.Group, Name: a.Name, Topic: a.Topic, Timestamp: s.d.cfg.Now()}
	if d.Group == "" {
		d.Group = fmt.Sprintf("120363%012d@g.us", randomInt(1e12))
	} else if !strings.HasSuffix(d.Group, "@g.us") {
		return nil, fmt.Errorf("%w: group %q is not a group JID (…@g.us)", session.ErrInvalid, d.Group)
	}
	for _, p := range a.Participants {
		jid, err := toJID(p)
		if err != nil {
			return nil, err
		}
		d.Participants = append(d.Participants, jid)
	}
	if a.By != "" {
		var err error
		if d.By, err = toJID(a.By); err != nil {
			return nil, err
		}
	}
	return IDResult{ID: d.Group}, s.emitConnected(inbound(typ, d.Timestamp, d))
}

func (s *Session) remoteDisconnect(ctx context.Context, _ noArgs) (any, error) {
	return nil, s.drop(ctx, session.Disconnected{Reason: state.ReasonRemoteClosed})
}

// phoneLogout unlinks the device from the phone. Offline, the device is
// deleted silently and the next Connect reports it missing, as WhatsApp
// does on the next connection.
func (s *Session) phoneLogout(ctx context.Context, _ noArgs) (any, error) {
	s.mu.Lock()
	jid := s.jid
	s.mu.Unlock()
	if jid == "" {
		return nil, session.ErrNotPaired
	}
	if _, err := s.d.cfg.Store.DeleteSimDevice(ctx, jid); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var m marker
	var start bool
	if s.phase != offline {
		m = s.closeLocked()
		s.jid = ""
		start = s.post(session.LoggedOut{Reason: state.ReasonLoggedOut})
	}
	s.mu.Unlock()
	s.kick(start)
	s.d.release(ctx, m)
	return nil, nil
}

type banArgs struct {
	Seconds int64  `json:"seconds"`
	Code    string `json:"code"`
}

func (s *Session) ban(ctx context.Context, a banArgs) (any, error) {
	if a.Seconds <= 0 {
		return nil, fmt.Errorf("%w: seconds must be positive", session.ErrInvalid)
	}
	until := s.d.cfg.Now().Add(time.Duration(a.Seconds) * time.Second)
	return nil, s.drop(ctx, session.TemporaryBan{Code: a.Code, Until: until})
}

func (s *Session) streamReplaced(ctx context.Context, _ noArgs) (any, error) {
	return nil, s.drop(ctx, session.StreamReplaced{})
}

type connectFailureArgs struct {
	Reason    string `json:"reason"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

func (s *Session) connectFailure(ctx context.Context, a connectFailureArgs) (any, error) {
	return nil, s.drop(ctx, session.ConnectFailure{Reason: a.Reason, Message: a.Message, Retryable: a.Retryable})
}

func (s *Session) clientOutdated(ctx context.Context, _ noArgs) (any, error) {
	return nil, s.drop(ctx, session.ClientOutdated{})
}

// fromAndChat normalises a sender and its chat; the chat defaults to the
// sender's own.
func fromAndChat(from, chat string) (string, string, error) {
	f, err := toJID(from)
	if err != nil {
		return "", "", err
	}
	if chat == "" {
		return f, f, nil
	}
	c, err := toJID(chat)
	return f, c, err
}

type sendFailureArgs struct {
	Times int `json:"times"`
	Code  int `json:"code"`
}

// sendFailure makes the next times sends fail with the server error code,
// as WhatsApp's server answers a send it refuses (4xx: the worker fails the
// message) or cannot take now (5xx: the worker retries).
func (s *Session) sendFailure(_ context.Context, a sendFailureArgs) (any, error) {
	if a.Times < 1 || a.Times > 1000 || a.Code < 400 || a.Code > 599 {
		return nil, fmt.Errorf("%w: times must be 1 to 1000 and code 400 to 599", session.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != connected {
		return nil, session.ErrNotConnected
	}
	for range a.Times {
		s.sendFailures = append(s.sendFailures, a.Code)
	}
	return nil, nil
}
