package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the group capability (package groups documents the
// contract): whatsmeow's group calls, with their arguments and answers
// translated to and from the plain types of package groups. Changes are
// not reported here: WhatsApp notifies every participant, this account
// included, and those notifications become group.* events (translate.go).

// groupClient is the part of whatsmeow's client the group capability
// uses; tests stand in for it.
type groupClient interface {
	GetJoinedGroups(ctx context.Context) ([]*types.GroupInfo, error)
	GetGroupInfo(ctx context.Context, jid types.JID) (*types.GroupInfo, error)
	CreateGroup(ctx context.Context, req wa.ReqCreateGroup) (*types.GroupInfo, error)
	UpdateGroupParticipants(ctx context.Context, jid types.JID, changes []types.JID, action wa.ParticipantChange) ([]types.GroupParticipant, error)
	LeaveGroup(ctx context.Context, jid types.JID) error
}

var _ groupClient = (*wa.Client)(nil)

// groupsOf returns the logged-in client as a groupClient.
func (s *Session) groupsOf(op string) (groupClient, error) {
	cli, err := s.loggedIn()
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: %s: %w", op, err)
	}
	return cli, nil
}

// ListGroups returns the groups the account takes part in.
func (s *Session) ListGroups(ctx context.Context) ([]groups.Group, error) {
	cli, err := s.groupsOf("list groups")
	if err != nil {
		return nil, err
	}
	return listGroups(ctx, cli)
}

// GroupInfo returns a group the account takes part in.
func (s *Session) GroupInfo(ctx context.Context, group string) (groups.Group, error) {
	cli, err := s.groupsOf("group info")
	if err != nil {
		return groups.Group{}, err
	}
	return groupInfo(ctx, cli, group)
}

// CreateGroup creates a group of the account and participants (phone
// numbers or JIDs). WhatsApp adds the account itself.
func (s *Session) CreateGroup(ctx context.Context, name string, participants []string) (groups.Created, error) {
	cli, err := s.groupsOf("create group")
	if err != nil {
		return groups.Created{}, err
	}
	return createGroup(ctx, cli, name, participants)
}

// UpdateParticipants adds, removes, promotes or demotes participants.
func (s *Session) UpdateParticipants(ctx context.Context, group, action string, participants []string) ([]groups.ParticipantResult, error) {
	cli, err := s.groupsOf(action + " participants")
	if err != nil {
		return nil, err
	}
	return updateParticipants(ctx, cli, group, action, participants)
}

// LeaveGroup takes the account out of a group.
func (s *Session) LeaveGroup(ctx context.Context, group string) error {
	cli, err := s.groupsOf("leave group")
	if err != nil {
		return err
	}
	return leaveGroup(ctx, cli, group)
}

func listGroups(ctx context.Context, cli groupClient) ([]groups.Group, error) {
	infos, err := cli.GetJoinedGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: list groups: %w", groupError(err, groups.ErrNotParticipant))
	}
	out := make([]groups.Group, 0, len(infos))
	for _, info := range infos {
		if info != nil {
			out = append(out, groupOf(info).Group)
		}
	}
	return out, nil
}

func groupInfo(ctx context.Context, cli groupClient, group string) (groups.Group, error) {
	jid, err := groupJID(group)
	if err != nil {
		return groups.Group{}, fmt.Errorf("whatsmeow: group info: %w", err)
	}
	info, err := cli.GetGroupInfo(ctx, jid)
	if err != nil {
		return groups.Group{}, fmt.Errorf("whatsmeow: group info %s: %w", jid, groupError(err, groups.ErrNotParticipant))
	}
	return groupOf(info).Group, nil
}

func createGroup(ctx context.Context, cli groupClient, name string, participants []string) (groups.Created, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > groups.MaxNameLength {
		return groups.Created{}, fmt.Errorf("whatsmeow: create group: %w: the name must have 1 to %d characters", session.ErrInvalid, groups.MaxNameLength)
	}
	jids, err := participantJIDs(participants)
	if err != nil {
		return groups.Created{}, fmt.Errorf("whatsmeow: create group: %w", err)
	}
	info, err := cli.CreateGroup(ctx, wa.ReqCreateGroup{Name: name, Participants: jids})
	if err != nil {
		return groups.Created{}, fmt.Errorf("whatsmeow: create group: %w", groupError(err, groups.ErrNotAdmin))
	}
	return groupOf(info), nil
}

var participantChanges = map[string]wa.ParticipantChange{
	groups.ActionAdd:     wa.ParticipantChangeAdd,
	groups.ActionRemove:  wa.ParticipantChangeRemove,
	groups.ActionPromote: wa.ParticipantChangePromote,
	groups.ActionDemote:  wa.ParticipantChangeDemote,
}

func updateParticipants(ctx context.Context, cli groupClient, group, action string, participants []string) ([]groups.ParticipantResult, error) {
	change, ok := participantChanges[action]
	if !ok {
		return nil, fmt.Errorf("whatsmeow: participants: %w: action %q is not one of %s", session.ErrInvalid, action, strings.Join(groups.Actions, ", "))
	}
	jid, err := groupJID(group)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: %s participants: %w", action, err)
	}
	jids, err := participantJIDs(participants)
	if err == nil && len(jids) == 0 {
		err = fmt.Errorf("%w: no participants", session.ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: %s participants: %w", action, err)
	}
	res, err := cli.UpdateGroupParticipants(ctx, jid, jids, change)
	if err != nil {
		// Forbidden here means the account is no admin of the group.
		return nil, fmt.Errorf("whatsmeow: %s participants of %s: %w", action, jid, groupError(err, groups.ErrNotAdmin))
	}
	out := make([]groups.ParticipantResult, len(res))
	for i, p := range res {
		out[i] = participantResult(p)
	}
	return out, nil
}

func leaveGroup(ctx context.Context, cli groupClient, group string) error {
	jid, err := groupJID(group)
	if err != nil {
		return fmt.Errorf("whatsmeow: leave group: %w", err)
	}
	if err := cli.LeaveGroup(ctx, jid); err != nil {
		return fmt.Errorf("whatsmeow: leave group %s: %w", jid, groupError(err, groups.ErrNotParticipant))
	}
	return nil
}

// groupOf translates whatsmeow's group: participants WhatsApp refused
// (when creating a group) go to Failed.
func groupOf(info *types.GroupInfo) groups.Created {
	g := groups.Created{Group: groups.Group{
		ID:           jidString(info.JID),
		Name:         info.Name,
		Topic:        info.Topic,
		Owner:        jidString(info.OwnerJID),
		Announce:     info.IsAnnounce,
		Locked:       info.IsLocked,
		JoinApproval: info.IsJoinApprovalRequired,
		Participants: make([]groups.Participant, 0, len(info.Participants)),
	}}
	if info.OwnerJID.Server == types.HiddenUserServer && !info.OwnerPN.IsEmpty() {
		g.Owner = jidString(info.OwnerPN)
	}
	if !info.GroupCreated.IsZero() {
		t := info.GroupCreated.UTC()
		g.CreatedAt = &t
	}
	if info.IsEphemeral {
		g.EphemeralSeconds = info.DisappearingTimer
	}
	for _, p := range info.Participants {
		if p.Error != 0 {
			g.Failed = append(g.Failed, participantResult(p))
			continue
		}
		gp := groups.Participant{JID: jidString(p.JID), Role: groups.RoleMember}
		if p.JID.Server == types.HiddenUserServer && !p.PhoneNumber.IsEmpty() {
			gp.Phone = jidString(p.PhoneNumber)
		}
		switch {
		case p.IsSuperAdmin:
			gp.Role = groups.RoleSuperAdmin
		case p.IsAdmin:
			gp.Role = groups.RoleAdmin
		}
		g.Participants = append(g.Participants, gp)
	}
	return g
}

// participantResult translates WhatsApp's answer for one participant.
func participantResult(p types.GroupParticipant) groups.ParticipantResult {
	jid := p.JID
	if jid.Server == types.HiddenUserServer && !p.PhoneNumber.IsEmpty() {
		jid = p.PhoneNumber
	}
	r := groups.ParticipantResult{JID: jidString(jid), Status: groups.StatusOK}
	if p.Error == 0 {
		return r
	}
	r.Status, r.Code = groups.StatusFailed, p.Error
	r.Reason = groups.FailureReason(p.Error, p.AddRequest != nil)
	if p.AddRequest != nil {
		r.InviteCode = p.AddRequest.Code
		if !p.AddRequest.Expiration.IsZero() {
			t := p.AddRequest.Expiration.UTC()
			r.InviteExpiresAt = &t
		}
	}
	return r
}

// groupJID parses a group's JID.
func groupJID(s string) (types.JID, error) {
	j, err := types.ParseJID(strings.TrimSpace(s))
	if err != nil || j.User == "" || j.Server != types.GroupServer {
		return types.EmptyJID, fmt.Errorf("%w: %q is not a group JID (…@g.us)", session.ErrInvalid, s)
	}
	return j, nil
}

// participantJIDs parses participants (phone numbers, user JIDs or LIDs)
// into user JIDs without device part, dropping duplicates.
func participantJIDs(vs []string) ([]types.JID, error) {
	out := make([]types.JID, 0, len(vs))
	seen := make(map[types.JID]bool, len(vs))
	for _, v := range vs {
		j, err := ParseJID(v)
		if err != nil {
			return nil, err
		}
		if j.Server != types.DefaultUserServer && j.Server != types.HiddenUserServer {
			return nil, fmt.Errorf("%w: participant %q is not a phone number, user JID or LID", session.ErrInvalid, v)
		}
		j = j.ToNonAD()
		if !seen[j] {
			seen[j] = true
			out = append(out, j)
		}
	}
	return out, nil
}

// groupError maps whatsmeow's errors of group calls to the capability's;
// forbidden is what WhatsApp's 403 means for the call.
func groupError(err, forbidden error) error {
	var iq *wa.IQError
	switch {
	case errors.Is(err, wa.ErrGroupNotFound):
		return errors.Join(groups.ErrGroupNotFound, err)
	case errors.Is(err, wa.ErrNotInGroup):
		return errors.Join(groups.ErrNotParticipant, err)
	case errors.Is(err, wa.ErrIQTimedOut):
		return errors.Join(context.DeadlineExceeded, err)
	case errors.Is(err, wa.ErrIQDisconnected):
		return errors.Join(session.ErrNotConnected, err)
	case errors.As(err, &iq):
		switch iq.Code {
		case 400, 406:
			return errors.Join(session.ErrInvalid, err)
		case 401, 403:
			return errors.Join(forbidden, err)
		case 404:
			return errors.Join(groups.ErrGroupNotFound, err)
		case 429:
			return errors.Join(groups.ErrRateLimited, err)
		}
	}
	return sendError(err)
}
