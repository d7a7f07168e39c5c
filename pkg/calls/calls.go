package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/names"
)

// Rejecter is the capability of a session that can reject an incoming
// call: from is the caller's JID (the call's creator), callID WhatsApp's id
// of the call.
type Rejecter interface {
	RejectCall(ctx context.Context, from, callID string) error
}

// MethodReject is the request method (wa.rpc.<shard>.<channel>.call.reject).
const MethodReject = "call.reject"

// Params is the request body of MethodReject.
type Params struct {
	CallID string `json:"call_id"`
	From   string `json:"from"`
	// FromLID is the caller's LID when WhatsApp named the caller by LID,
	// repeated in the answer.
	FromLID string `json:"from_lid,omitempty"`
}

// Who rejected a call (Rejected.By).
const (
	ByAPI  = "api"
	ByAuto = "auto"
)

// Rejected is the answer to a rejection and the data of call.rejected.
type Rejected struct {
	ID   string `json:"id"`
	From string `json:"from"`
	// FromLID is the caller's LID when WhatsApp named the caller by LID
	// (as in the call's call.received).
	FromLID string `json:"from_lid,omitempty"`
	// By is api (POST …/calls/{call_id}/reject) or auto
	// (settings.reject_calls).
	By string `json:"by"`
	// ReplyMessageID is the message queued to the caller
	// (settings.reject_calls_reply), when one was.
	ReplyMessageID string    `json:"reply_message_id,omitempty"`
	Timestamp      time.Time `json:"timestamp"`
}

// Event is what the worker publishes once a rejection succeeded.
func (r Rejected) Event() (string, any) { return event.CallRejected, r }

// Errors and their codes.
var (
	// ErrCallNotFound: no call with this id is known (never received, or
	// longer ago than RememberFor).
	ErrCallNotFound = errors.New("calls: call not found")
)

// CodeCallNotFound is the code of ErrCallNotFound (HTTP 404).
const CodeCallNotFound = "call_not_found"

// Status is the HTTP status of this package's codes (0 for others).
func Status(code string) int {
	if code == CodeCallNotFound {
		return http.StatusNotFound
	}
	return 0
}

// Methods are the request methods of the package, run by the worker.
var Methods = map[string]groups.Handler{MethodReject: reject}

var errUnsupported = groups.Errorf(groups.CodeNotSupported, "the channel's driver cannot reject calls")

func reject(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
	var p Params
	if err := groups.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	res, err := Reject(ctx, sess, p.CallID, p.From, ByAPI)
	res.FromLID = p.FromLID
	return res, err
}

// Reject rejects call callID of from on sess.
func Reject(ctx context.Context, sess any, callID, from, by string) (Rejected, error) {
	r, ok := sess.(Rejecter)
	if !ok {
		return Rejected{}, errUnsupported
	}
	if callID == "" || from == "" {
		return Rejected{}, groups.Errorf(groups.CodeInvalidRequest, "call_id and from are required")
	}
	if err := r.RejectCall(ctx, from, callID); err != nil {
		return Rejected{}, fmt.Errorf("reject call %s: %w", callID, err)
	}
	return Rejected{ID: callID, From: from, By: by, Timestamp: time.Now().UTC()}, nil
}

// Settings are the call settings of a channel (its settings object).
type Settings struct {
	// Reject: reject every incoming call (settings.reject_calls).
	Reject bool `json:"reject_calls"`
	// Reply is sent to a caller whose call was rejected automatically
	// (settings.reject_calls_reply; empty: none).
	Reply string `json:"reject_calls_reply"`
}

// SettingsOf reads the call settings from a channel's settings JSON.
func SettingsOf(raw json.RawMessage) Settings {
	var s Settings
	_ = json.Unmarshal(raw, &s) // validated when stored; unreadable means none
	return s
}

// MaxReplyLength bounds settings.reject_calls_reply, in characters.
const MaxReplyLength = 1000

// ValidReply checks a reply text for settings.reject_calls_reply.
func ValidReply(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be blank (null removes it)")
	}
	if n := utf8.RuneCountInString(s); n > MaxReplyLength {
		return fmt.Errorf("must have at most %d characters, not %d", MaxReplyLength, n)
	}
	if strings.ContainsRune(s, 0) {
		return errors.New("must not contain NUL characters")
	}
	return nil
}

// Offer is what the worker reads from a call.received event.
type Offer struct {
	ID      string `json:"id"`
	From    string `json:"from"`
	FromLID string `json:"from_lid"`
	Group   string `json:"group"`
	Status  string `json:"status"`
}

// IsOffer reports whether a call.received event announces a new call
// (ringing) rather than a change of one.
func (o Offer) IsOffer() bool {
	return o.ID != "" && o.From != "" && (o.Status == "" || o.Status == "offer" || o.Status == "offer_notice")
}

// RememberFor is how long a received call can be rejected by its id
// alone: WhatsApp stops ringing after about a minute.
const RememberFor = time.Hour

// Remember notes the caller of call callID of channel (from, and fromLID
// when WhatsApp named the caller by LID), for Caller.
func Remember(ctx context.Context, rdb redis.Cmdable, keys names.Redis, channel, callID, from, fromLID string) error {
	v := from
	if fromLID != "" {
		v += " " + fromLID // JIDs hold no spaces
	}
	return rdb.Set(ctx, keys.Call(channel, callID), v, RememberFor).Err()
}

// Caller returns the caller of a call Remember noted and its LID ("" when
// none was given), or ErrCallNotFound.
func Caller(ctx context.Context, rdb redis.Cmdable, keys names.Redis, channel, callID string) (from, fromLID string, err error) {
	v, err := rdb.Get(ctx, keys.Call(channel, callID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", ErrCallNotFound
	}
	if err != nil {
		return "", "", err
	}
	from, fromLID, _ = strings.Cut(v, " ")
	return from, fromLID, nil
}
