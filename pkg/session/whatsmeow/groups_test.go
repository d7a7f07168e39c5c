package whatsmeow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/schemas"
)

// fakeGroups stands in for WhatsApp's group server: it records the calls
// it gets and answers what the test set.
type fakeGroups struct {
	joined []*types.GroupInfo
	info   *types.GroupInfo
	result []types.GroupParticipant
	err    error

	create  wa.ReqCreateGroup
	updated struct {
		jid    types.JID
		jids   []types.JID
		action wa.ParticipantChange
	}
	left types.JID
}

func (f *fakeGroups) GetJoinedGroups(context.Context) ([]*types.GroupInfo, error) {
	return f.joined, f.err
}

func (f *fakeGroups) GetGroupInfo(_ context.Context, jid types.JID) (*types.GroupInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.info == nil || f.info.JID != jid {
		return nil, fmt.Errorf("wrapped: %w", wa.ErrGroupNotFound)
	}
	return f.info, nil
}

func (f *fakeGroups) CreateGroup(_ context.Context, req wa.ReqCreateGroup) (*types.GroupInfo, error) {
	f.create = req
	return f.info, f.err
}

func (f *fakeGroups) UpdateGroupParticipants(_ context.Context, jid types.JID, jids []types.JID, action wa.ParticipantChange) ([]types.GroupParticipant, error) {
	f.updated.jid, f.updated.jids, f.updated.action = jid, jids, action
	return f.result, f.err
}

func (f *fakeGroups) LeaveGroup(_ context.Context, jid types.JID) error {
	f.left = jid
	return f.err
}

var (
	carolLID = types.NewJID("81234567890123", types.HiddenUserServer)
	carol    = types.NewJID("15551230003", types.DefaultUserServer)
)

func teamInfo() *types.GroupInfo {
	created := now.Add(-time.Hour)
	return &types.GroupInfo{
		JID: group, OwnerJID: me, GroupCreated: created,
		GroupName:                   types.GroupName{Name: "Team"},
		GroupTopic:                  types.GroupTopic{Topic: "plans"},
		GroupAnnounce:               types.GroupAnnounce{IsAnnounce: true},
		GroupEphemeral:              types.GroupEphemeral{IsEphemeral: true, DisappearingTimer: 604800},
		GroupMembershipApprovalMode: types.GroupMembershipApprovalMode{IsJoinApprovalRequired: true},
		Participants: []types.GroupParticipant{
			{JID: me, PhoneNumber: me, IsAdmin: true, IsSuperAdmin: true},
			{JID: alice, PhoneNumber: alice, IsAdmin: true},
			{JID: carolLID, LID: carolLID, PhoneNumber: carol},
		},
	}
}

func TestGroupTranslation(t *testing.T) {
	t.Parallel()
	created := now.Add(-time.Hour)
	want := groups.Group{
		ID: group.String(), Name: "Team", Topic: "plans", Owner: me.String(), CreatedAt: &created,
		Announce: true, EphemeralSeconds: 604800, JoinApproval: true,
		Participants: []groups.Participant{
			{JID: me.String(), Role: groups.RoleSuperAdmin},
			{JID: alice.String(), Role: groups.RoleAdmin},
			{JID: carolLID.String(), Phone: carol.String(), Role: groups.RoleMember},
		},
	}
	ctx := context.Background()

	f := &fakeGroups{joined: []*types.GroupInfo{teamInfo()}, info: teamInfo()}
	list, err := listGroups(ctx, f)
	require.NoError(t, err)
	require.Equal(t, []groups.Group{want}, list)

	g, err := groupInfo(ctx, f, " "+group.String())
	require.NoError(t, err)
	require.Equal(t, want, g)

	_, err = groupInfo(ctx, f, "120363000000000099@g.us")
	require.ErrorIs(t, err, groups.ErrGroupNotFound)
	_, err = groupInfo(ctx, f, alice.String())
	require.ErrorIs(t, err, session.ErrInvalid, "a user is not a group")

	// An empty list is a list.
	list, err = listGroups(ctx, &fakeGroups{})
	require.NoError(t, err)
	require.NotNil(t, list)
	require.Empty(t, list)
}

func TestCreateGroupTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	expires := now.Add(72 * time.Hour)
	info := teamInfo()
	info.Participants = append(info.Participants,
		types.GroupParticipant{JID: bob, Error: 403, AddRequest: &types.GroupParticipantAddRequest{Code: "AbC123", Expiration: expires}},
		types.GroupParticipant{JID: types.NewJID("15551230009", types.DefaultUserServer), Error: 408},
	)
	f := &fakeGroups{info: info}
	c, err := createGroup(ctx, f, " Team ", []string{"+1 555 123 0001", "15551230002@s.whatsapp.net", aliceAD.String(), carolLID.String()})
	require.NoError(t, err)
	require.Equal(t, "Team", f.create.Name)
	require.Equal(t, []types.JID{alice, bob, carolLID}, f.create.Participants, "normalised, device parts and duplicates dropped")
	require.Len(t, c.Participants, 3, "refused participants are not members")
	require.Equal(t, []groups.ParticipantResult{
		{JID: bob.String(), Status: groups.StatusFailed, Code: 403, Reason: groups.ReasonInviteRequired, InviteCode: "AbC123", InviteExpiresAt: &expires},
		{JID: "15551230009@s.whatsapp.net", Status: groups.StatusFailed, Code: 408, Reason: groups.ReasonRecentlyLeft},
	}, c.Failed)

	for _, tc := range []struct {
		name         string
		group        string
		participants []string
	}{
		{"an empty name", "   ", nil},
		{"a name over 100 characters", string(make([]rune, 101)), nil},
		{"a group as participant", "x", []string{group.String()}},
		{"a broadcast list as participant", "x", []string{"status@broadcast"}},
		{"a local number", "x", []string{"030 1234567"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroups{info: teamInfo()}
			_, err := createGroup(ctx, f, tc.group, tc.participants)
			require.ErrorIs(t, err, session.ErrInvalid)
			require.Empty(t, f.create.Name, "nothing reached WhatsApp")
		})
	}
}

func TestUpdateParticipantsTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for action, change := range map[string]wa.ParticipantChange{
		groups.ActionAdd: wa.ParticipantChangeAdd, groups.ActionRemove: wa.ParticipantChangeRemove,
		groups.ActionPromote: wa.ParticipantChangePromote, groups.ActionDemote: wa.ParticipantChangeDemote,
	} {
		f := &fakeGroups{result: []types.GroupParticipant{{JID: alice}, {JID: carolLID, PhoneNumber: carol, Error: 409}}}
		res, err := updateParticipants(ctx, f, group.String(), action, []string{"15551230001", carolLID.String()})
		require.NoError(t, err, action)
		require.Equal(t, change, f.updated.action)
		require.Equal(t, group, f.updated.jid)
		require.Equal(t, []types.JID{alice, carolLID}, f.updated.jids)
		require.Equal(t, []groups.ParticipantResult{
			{JID: alice.String(), Status: groups.StatusOK},
			{JID: carol.String(), Status: groups.StatusFailed, Code: 409, Reason: groups.ReasonAlreadyParticipant},
		}, res, action)
	}
	f := &fakeGroups{}
	_, err := updateParticipants(ctx, f, group.String(), "kick", []string{"15551230001"})
	require.ErrorIs(t, err, session.ErrInvalid)
	_, err = updateParticipants(ctx, f, group.String(), groups.ActionAdd, nil)
	require.ErrorIs(t, err, session.ErrInvalid)
	_, err = updateParticipants(ctx, f, "15551230001", groups.ActionAdd, []string{"15551230002"})
	require.ErrorIs(t, err, session.ErrInvalid)
	require.Empty(t, f.updated.jids, "nothing reached WhatsApp")

	require.NoError(t, leaveGroup(ctx, f, group.String()))
	require.Equal(t, group, f.left)
}

func TestGroupErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	iq := func(code int, text string) error { return fmt.Errorf("send: %w", &wa.IQError{Code: code, Text: text}) }
	for _, tc := range []struct {
		name string
		err  error
		// what the failure means for a change of participants, and for
		// leaving a group
		participants, leave error
	}{
		{"403 on a change", iq(403, "forbidden"), groups.ErrNotAdmin, groups.ErrNotParticipant},
		{"403 with another text", iq(403, "not-admin"), groups.ErrNotAdmin, groups.ErrNotParticipant},
		{"404", iq(404, "item-not-found"), groups.ErrGroupNotFound, groups.ErrGroupNotFound},
		{"406 (a name too long for WhatsApp)", iq(406, "not-acceptable"), session.ErrInvalid, session.ErrInvalid},
		{"429", iq(429, "rate-overlimit"), groups.ErrRateLimited, groups.ErrRateLimited},
		{"IQ timed out", wa.ErrIQTimedOut, context.DeadlineExceeded, context.DeadlineExceeded},
		{"socket lost", &wa.DisconnectedError{Action: "info query"}, session.ErrNotConnected, session.ErrNotConnected},
		{"not connected", wa.ErrNotConnected, session.ErrNotConnected, session.ErrNotConnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroups{err: tc.err}
			_, err := updateParticipants(ctx, f, group.String(), groups.ActionAdd, []string{"15551230001"})
			require.ErrorIs(t, err, tc.participants)
			require.ErrorIs(t, err, tc.err, "the cause is kept")
			require.ErrorIs(t, leaveGroup(ctx, f, group.String()), tc.leave)
		})
	}
	_, err := groupInfo(ctx, &fakeGroups{err: fmt.Errorf("x: %w", wa.ErrNotInGroup)}, group.String())
	require.ErrorIs(t, err, groups.ErrNotParticipant)
	require.Equal(t, groups.CodeNotParticipant, groups.ErrorOf(err).Code)
	unknown := errors.New("socket exploded")
	_, err = listGroups(ctx, &fakeGroups{err: unknown})
	require.Equal(t, groups.CodeWhatsApp, groups.ErrorOf(err).Code)
}

func TestGroupCapabilityNeedsALoggedInSession(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, _ := open(t, d, "")
	ctx := context.Background()
	_, err := s.ListGroups(ctx)
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.GroupInfo(ctx, group.String())
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.CreateGroup(ctx, "x", []string{"15551230001"})
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.UpdateParticipants(ctx, group.String(), groups.ActionAdd, []string{"15551230001"})
	require.ErrorIs(t, err, session.ErrNotConnected)
	require.ErrorIs(t, s.LeaveGroup(ctx, group.String()), session.ErrNotConnected)
}

// The group events the driver translates are valid against their schemas.
func TestGroupEventsMatchTheirSchemas(t *testing.T) {
	t.Parallel()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	link := "https://chat.whatsapp.com/AbCdEf"
	tDeleted := &types.GroupTopic{TopicDeleted: true}
	var evs []session.Event
	for _, evt := range []any{
		&events.GroupInfo{
			JID: group, Sender: &aliceAD, Timestamp: sent, JoinReason: "invite",
			Join: []types.JID{bob, carolLID}, Leave: []types.JID{me},
			Name:                   &types.GroupName{Name: "Team"},
			Topic:                  &types.GroupTopic{Topic: "plans"},
			Locked:                 &types.GroupLocked{IsLocked: true},
			Announce:               &types.GroupAnnounce{IsAnnounce: false},
			Ephemeral:              &types.GroupEphemeral{IsEphemeral: true, DisappearingTimer: 86400},
			MembershipApprovalMode: &types.GroupMembershipApprovalMode{IsJoinApprovalRequired: true},
			NewInviteLink:          &link,
			Promote:                []types.JID{bob},
			Demote:                 []types.JID{alice},
			Delete:                 &types.GroupDelete{Deleted: true},
		},
		&events.GroupInfo{JID: group, Topic: tDeleted},
		&events.JoinedGroup{Type: "new", Sender: &aliceAD, GroupInfo: *teamInfo()},
		&events.JoinedGroup{GroupInfo: types.GroupInfo{JID: group}},
	} {
		evs = append(evs, translate(evt, now)...)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		in := ev.(session.Inbound)
		seen[in.Type] = true
		env, err := event.New(in.Type, ids.New(ids.Channel), 1, in.At, in.Data)
		require.NoError(t, err)
		raw, err := json.Marshal(env)
		require.NoError(t, err)
		require.NoError(t, v.ValidateEvent(raw), "%s %s", in.Type, in.Data)
	}
	require.Equal(t, map[string]bool{event.GroupCreated: true, event.GroupMemberAdded: true, event.GroupMemberRemoved: true, event.GroupUpdated: true}, seen)
}
