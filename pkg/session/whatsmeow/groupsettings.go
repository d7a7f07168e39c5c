package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the rest of the group capability (groups.Inviter,
// groups.Editor): whatsmeow's invite-link, settings and picture calls.
// Changes are reported by WhatsApp's notifications, as for the other group
// calls: a GroupInfo with the new name, topic, announce, locked or invite
// link, a Picture for the picture, a GroupInfo with Join and reason
// "invite" for a join (translate.go).
//
// A settings change and a picture first read the group: the account must
// take part in it, and be an admin for what needs one, so that a change
// refused for that is refused whole. Each setting is its own call to
// WhatsApp; when one fails, the ones before it stay made (and reported).

var (
	_ groups.Inviter = (*Session)(nil)
	_ groups.Editor  = (*Session)(nil)
)

// groupAdminClient is the part of whatsmeow's client these calls use
// beyond groupClient; tests stand in for it.
type groupAdminClient interface {
	groupClient
	GetGroupInviteLink(ctx context.Context, jid types.JID, reset bool) (string, error)
	GetGroupInfoFromLink(ctx context.Context, code string) (*types.GroupInfo, error)
	JoinGroupWithLink(ctx context.Context, code string) (types.JID, error)
	SetGroupName(ctx context.Context, jid types.JID, name string) error
	SetGroupTopic(ctx context.Context, jid types.JID, previousID, newID, topic string) error
	SetGroupAnnounce(ctx context.Context, jid types.JID, announce bool) error
	SetGroupLocked(ctx context.Context, jid types.JID, locked bool) error
	SetGroupPhoto(ctx context.Context, jid types.JID, avatar []byte) (string, error)
}

var _ groupAdminClient = (*wa.Client)(nil)

// groupAdmin is the logged-in client and the account's own JIDs (phone
// number and LID), which name it among a group's participants.
type groupAdmin struct {
	cli  groupAdminClient
	self []types.JID
}

func (s *Session) groupAdmin(op string) (groupAdmin, error) {
	cli, err := s.loggedIn()
	if err != nil {
		return groupAdmin{}, fmt.Errorf("whatsmeow: %s: %w", op, err)
	}
	self := []types.JID{cli.Store.ID.ToNonAD()}
	if !cli.Store.LID.IsEmpty() {
		self = append(self, cli.Store.LID.ToNonAD())
	}
	return groupAdmin{cli: cli, self: self}, nil
}

// InviteLink implements groups.Inviter.
func (s *Session) InviteLink(ctx context.Context, group string, reset bool) (groups.Invite, error) {
	a, err := s.groupAdmin("invite link")
	if err != nil {
		return groups.Invite{}, err
	}
	return a.inviteLink(ctx, group, reset)
}

// JoinGroup implements groups.Inviter.
func (s *Session) JoinGroup(ctx context.Context, code string) (groups.Joined, error) {
	a, err := s.groupAdmin("join group")
	if err != nil {
		return groups.Joined{}, err
	}
	return a.join(ctx, code)
}

// UpdateGroup implements groups.Editor.
func (s *Session) UpdateGroup(ctx context.Context, group string, u groups.Update) (groups.Group, error) {
	a, err := s.groupAdmin("update group")
	if err != nil {
		return groups.Group{}, err
	}
	return a.update(ctx, group, u)
}

// SetGroupPicture implements groups.Editor.
func (s *Session) SetGroupPicture(ctx context.Context, group string, jpeg []byte) (string, error) {
	a, err := s.groupAdmin("group picture")
	if err != nil {
		return "", err
	}
	return a.setPicture(ctx, group, jpeg)
}

func (a groupAdmin) inviteLink(ctx context.Context, group string, reset bool) (groups.Invite, error) {
	jid, err := groupJID(group)
	if err != nil {
		return groups.Invite{}, fmt.Errorf("whatsmeow: invite link: %w", err)
	}
	link, err := a.cli.GetGroupInviteLink(ctx, jid, reset)
	if err != nil {
		// whatsmeow names WhatsApp's 401 ErrGroupInviteLinkUnauthorized
		// (no admin) and its 403 ErrNotInGroup.
		return groups.Invite{}, fmt.Errorf("whatsmeow: invite link of %s: %w", jid, groupError(err, groups.ErrNotAdmin))
	}
	code, ok := groups.ParseInvite(link)
	if !ok {
		return groups.Invite{}, fmt.Errorf("whatsmeow: invite link of %s: unexpected link %q", jid, link)
	}
	return groups.InviteOf(jid.String(), code), nil
}

// join resolves the code first, so that an invalid or revoked link is
// refused before anything else, and a group that needs an admin's
// approval is answered as pending with what the link tells of it.
func (a groupAdmin) join(ctx context.Context, code string) (groups.Joined, error) {
	code, ok := groups.ParseInvite(code)
	if !ok {
		return groups.Joined{}, fmt.Errorf("whatsmeow: join group: %w: not an invite link or code", session.ErrInvalid)
	}
	info, err := a.cli.GetGroupInfoFromLink(ctx, code)
	if err != nil {
		return groups.Joined{}, fmt.Errorf("whatsmeow: join group: %w", linkError(err))
	}
	if a.roleIn(info) == "" {
		jid, err := a.cli.JoinGroupWithLink(ctx, code)
		var iq *wa.IQError
		if errors.As(err, &iq) && iq.Code == 409 {
			err = nil // a participant already
		}
		if err != nil {
			return groups.Joined{}, fmt.Errorf("whatsmeow: join group %s: %w", info.JID, linkError(err))
		}
		if !jid.IsEmpty() {
			info.JID = jid
		}
		if info.IsJoinApprovalRequired {
			return groups.Joined{Group: groupOf(info).Group, Status: groups.JoinPending}, nil
		}
	}
	// The group as a participant sees it; the link's view when that read
	// fails, since the join took effect.
	if full, err := a.cli.GetGroupInfo(ctx, info.JID); err == nil {
		info = full
	}
	return groups.Joined{Group: groupOf(info).Group, Status: groups.JoinJoined}, nil
}

func (a groupAdmin) update(ctx context.Context, group string, u groups.Update) (groups.Group, error) {
	if e := u.Check(); e != nil {
		return groups.Group{}, fmt.Errorf("whatsmeow: update group: %w: %s", session.ErrInvalid, e.Message)
	}
	info, err := a.editable(ctx, group, func(info *types.GroupInfo) bool {
		u = u.Against(groupOf(info).Group)
		return u.NeedsAdmin(info.IsLocked)
	})
	if err != nil {
		return groups.Group{}, fmt.Errorf("whatsmeow: update group: %w", err)
	}
	g, jid := groupOf(info).Group, info.JID
	fail := func(what string, err error) (groups.Group, error) {
		return groups.Group{}, fmt.Errorf("whatsmeow: set the %s of %s: %w", what, jid, groupError(err, groups.ErrNotAdmin))
	}
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if err := a.cli.SetGroupName(ctx, jid, name); err != nil {
			return fail("name", err)
		}
		g.Name = name
	}
	if u.Description != nil {
		// The previous topic's id, which WhatsApp wants, is the one just
		// read; whatsmeow makes the new one.
		if err := a.cli.SetGroupTopic(ctx, jid, info.TopicID, "", *u.Description); err != nil {
			return fail("description", err)
		}
		g.Topic = *u.Description
	}
	if u.Announce != nil {
		if err := a.cli.SetGroupAnnounce(ctx, jid, *u.Announce); err != nil {
			return fail("announce setting", err)
		}
		g.Announce = *u.Announce
	}
	if u.Locked != nil {
		if err := a.cli.SetGroupLocked(ctx, jid, *u.Locked); err != nil {
			return fail("locked setting", err)
		}
		g.Locked = *u.Locked
	}
	return g, nil
}

func (a groupAdmin) setPicture(ctx context.Context, group string, jpeg []byte) (string, error) {
	if jpeg != nil && len(jpeg) == 0 {
		return "", fmt.Errorf("whatsmeow: group picture: %w: no picture", session.ErrInvalid)
	}
	info, err := a.editable(ctx, group, func(info *types.GroupInfo) bool { return info.IsLocked })
	if err != nil {
		return "", fmt.Errorf("whatsmeow: group picture: %w", err)
	}
	id, err := a.cli.SetGroupPhoto(ctx, info.JID, jpeg)
	switch {
	case errors.Is(err, wa.ErrInvalidImageFormat):
		return "", fmt.Errorf("whatsmeow: group picture of %s: %w", info.JID, errors.Join(groups.ErrInvalidImage, err))
	case err != nil:
		return "", fmt.Errorf("whatsmeow: group picture of %s: %w", info.JID, groupError(err, groups.ErrNotAdmin))
	case jpeg == nil:
		return "", nil // whatsmeow answers "remove"
	}
	return id, nil
}

// editable reads the group and checks that the account takes part in it
// and is an admin when needsAdmin says the change needs one.
func (a groupAdmin) editable(ctx context.Context, group string, needsAdmin func(*types.GroupInfo) bool) (*types.GroupInfo, error) {
	jid, err := groupJID(group)
	if err != nil {
		return nil, err
	}
	info, err := a.cli.GetGroupInfo(ctx, jid)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", jid, groupError(err, groups.ErrNotParticipant))
	}
	switch role := a.roleIn(info); {
	case role == "":
		return nil, fmt.Errorf("group %s: %w", jid, groups.ErrNotParticipant)
	case needsAdmin(info) && role == groups.RoleMember:
		return nil, fmt.Errorf("group %s: %w", jid, groups.ErrNotAdmin)
	}
	return info, nil
}

// roleIn is the account's role in the group ("" when it is no
// participant). A participant may be named by phone number or by LID.
func (a groupAdmin) roleIn(info *types.GroupInfo) string {
	for _, p := range info.Participants {
		for _, j := range []types.JID{p.JID, p.PhoneNumber, p.LID} {
			if j.IsEmpty() || !isSelf(a.self, j) {
				continue
			}
			switch {
			case p.IsSuperAdmin:
				return groups.RoleSuperAdmin
			case p.IsAdmin:
				return groups.RoleAdmin
			}
			return groups.RoleMember
		}
	}
	return ""
}

func isSelf(self []types.JID, j types.JID) bool {
	j = j.ToNonAD()
	for _, s := range self {
		if s.User == j.User && s.Server == j.Server {
			return true
		}
	}
	return false
}

// linkError maps the errors of the invite-link calls: whatsmeow names
// WhatsApp's 410 ErrInviteLinkRevoked and its 406 ErrInviteLinkInvalid;
// a 404 is an unknown code too, and a 401 or 403 a refusal to let the
// account in.
func linkError(err error) error {
	var iq *wa.IQError
	switch {
	case errors.Is(err, wa.ErrInviteLinkRevoked):
		return errors.Join(groups.ErrInviteRevoked, err)
	case errors.Is(err, wa.ErrInviteLinkInvalid), errors.Is(err, wa.ErrGroupNotFound):
		return errors.Join(groups.ErrInviteInvalid, err)
	case errors.As(err, &iq) && iq.Code == 404:
		return errors.Join(groups.ErrInviteInvalid, err)
	}
	return groupError(err, groups.ErrJoinRefused)
}
