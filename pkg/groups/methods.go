package groups

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The capability beyond listing, creating and changing participants
// (which the worker runs itself): invite links, joining by link, and a
// group's settings and picture. The worker detects each interface on the
// session by type assertion and runs Methods in the channel's mailbox.
//
// A change is reported by the driver as WhatsApp reports it — one
// group.updated per setting changed (name, topic or topic_deleted,
// announce, locked, invite_link, picture_id or picture_removed), and
// group.member_added with reason "invite" for a join — not by the answer.
type (
	// Inviter reads and resets invite links and joins groups by them.
	Inviter interface {
		// InviteLink returns the group's invite link; reset revokes the
		// current one first. Only admins may (ErrNotAdmin).
		InviteLink(ctx context.Context, group string, reset bool) (Invite, error)
		// JoinGroup joins the group of an invite code (ErrInviteInvalid,
		// ErrInviteRevoked).
		JoinGroup(ctx context.Context, code string) (Joined, error)
	}
	// Editor changes a group's settings and picture.
	Editor interface {
		// UpdateGroup applies the members of u that differ from the
		// group's settings, after checking the account may make all of
		// them (ErrNotAdmin: none is made), and returns the group.
		UpdateGroup(ctx context.Context, group string, u Update) (Group, error)
		// SetGroupPicture sets the group's picture from a JPEG and
		// returns its id; nil removes it.
		SetGroupPicture(ctx context.Context, group string, jpeg []byte) (string, error)
	}
)

// Methods are the request methods of Inviter and Editor.
var Methods = map[string]Handler{
	MethodInvite: method(func(ctx context.Context, i Inviter, p Params) (any, error) {
		if p.Group == "" {
			return nil, errNoGroup
		}
		return i.InviteLink(ctx, p.Group, p.Reset)
	}),
	MethodJoin: method(func(ctx context.Context, i Inviter, p Params) (any, error) {
		code, ok := ParseInvite(p.Invite)
		if !ok {
			return nil, Errorf(CodeInvalidRequest, "invite is not an invite link or code")
		}
		return i.JoinGroup(ctx, code)
	}),
	MethodUpdate: method(func(ctx context.Context, e Editor, p Params) (any, error) {
		if p.Group == "" {
			return nil, errNoGroup
		}
		if p.Update == nil || p.Update.Empty() {
			return nil, Errorf(CodeInvalidRequest, "nothing to change: give name, description, announce or locked")
		}
		if err := p.Update.Check(); err != nil {
			return nil, err
		}
		return e.UpdateGroup(ctx, p.Group, *p.Update)
	}),
	MethodPicture: method(func(ctx context.Context, e Editor, p Params) (any, error) {
		if p.Group == "" {
			return nil, errNoGroup
		}
		if p.Remove {
			if _, err := e.SetGroupPicture(ctx, p.Group, nil); err != nil {
				return nil, err
			}
			return PictureRemoved{Group: p.Group, Removed: true}, nil
		}
		if len(p.JPEG) == 0 || len(p.JPEG) > MaxPicture {
			return nil, Errorf(CodeInvalidRequest, "the picture needs 1 byte to %d bytes", MaxPicture)
		}
		id, err := e.SetGroupPicture(ctx, p.Group, p.JPEG)
		if err != nil {
			return nil, err
		}
		return PictureSet{Group: p.Group, PictureID: id}, nil
	}),
}

var errNoGroup = Errorf(CodeInvalidRequest, "group is required")

// Check refuses a name or description WhatsApp would not take: the API
// checks the same before asking, drivers again before WhatsApp.
func (u Update) Check() *Error {
	if u.Name != nil {
		if n := utf8.RuneCountInString(strings.TrimSpace(*u.Name)); n == 0 || n > MaxNameLength {
			return Errorf(CodeInvalidRequest, "name: 1 to %d characters", MaxNameLength)
		}
	}
	if u.Description != nil && utf8.RuneCountInString(*u.Description) > MaxTopicLength {
		return Errorf(CodeInvalidRequest, "description: at most %d characters", MaxTopicLength)
	}
	return nil
}

// method adapts a function of a capability C to a Handler: it detects C
// on the session and decodes the parameters.
func method[C any](do func(context.Context, C, Params) (any, error)) Handler {
	return func(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
		c, ok := sess.(C)
		if !ok {
			return nil, Errorf(CodeNotSupported, "the channel's driver does not support this group feature")
		}
		var p Params
		if err := DecodeParams(raw, &p); err != nil {
			return nil, err
		}
		return do(ctx, c, p)
	}
}
