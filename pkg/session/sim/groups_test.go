package sim_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/ids"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/session/sessiontest"
	"github.com/wagate/wagate/pkg/session/sim"
	"github.com/wagate/wagate/schemas"
)

// grouper is the group capability as the worker detects it.
type grouper interface {
	ListGroups(ctx context.Context) ([]groups.Group, error)
	GroupInfo(ctx context.Context, group string) (groups.Group, error)
	CreateGroup(ctx context.Context, name string, participants []string) (groups.Created, error)
	UpdateParticipants(ctx context.Context, group, action string, participants []string) ([]groups.ParticipantResult, error)
	LeaveGroup(ctx context.Context, group string) error
}

var _ grouper = (*sim.Session)(nil)

// groupEvent reads the next event, checks it is a group event of typ valid
// against its schema, and returns its data.
func groupEvent(t *testing.T, rec *sessiontest.Recorder, typ string) map[string]any {
	t.Helper()
	ev := sessiontest.Expect[session.Inbound](t, rec, wait)
	require.Equal(t, typ, ev.Type)
	env, err := event.New(ev.Type, ids.New(ids.Channel), 1, ev.At, ev.Data)
	require.NoError(t, err)
	raw, err := json.Marshal(env)
	require.NoError(t, err)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	require.NoError(t, v.ValidateEvent(raw), "%s", ev.Data)
	var d map[string]any
	require.NoError(t, json.Unmarshal(ev.Data, &d))
	return d
}

func user(jid string) string {
	u, s, _ := strings.Cut(jid, "@")
	u, _, _ = strings.Cut(u, ":")
	return u + "@" + s
}

func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	s, rec, jid := online(t, f, f.driver(t))
	g := s.(grouper)
	me := user(jid)
	bob, carol, dave := "15550001001@s.whatsapp.net", "15550001002@s.whatsapp.net", "15550001003@s.whatsapp.net"

	created, err := g.CreateGroup(ctx, "  Team  ", []string{"+1 555 000 1001", carol, me, bob})
	require.NoError(t, err)
	require.Regexp(t, `^120363[0-9]{12}@g\.us$`, created.ID)
	require.Equal(t, "Team", created.Name)
	require.Equal(t, me, created.Owner)
	require.NotNil(t, created.CreatedAt)
	require.Empty(t, created.Failed)
	require.ElementsMatch(t, []groups.Participant{
		{JID: bob, Role: groups.RoleMember}, {JID: carol, Role: groups.RoleMember}, {JID: me, Role: groups.RoleSuperAdmin},
	}, created.Participants, "the account is in once, as superadmin; duplicates dropped")
	d := groupEvent(t, rec, event.GroupCreated)
	require.Equal(t, created.ID, d["group"])
	require.Equal(t, "created", d["reason"])
	require.ElementsMatch(t, []any{bob, carol, me}, d["participants"])
	require.Equal(t, []any{me}, d["admins"])

	list, err := g.ListGroups(ctx)
	require.NoError(t, err)
	require.Equal(t, []groups.Group{created.Group}, list)

	res, err := g.UpdateParticipants(ctx, created.ID, groups.ActionAdd, []string{dave, bob})
	require.NoError(t, err)
	require.Equal(t, []groups.ParticipantResult{
		{JID: dave, Status: groups.StatusOK},
		{JID: bob, Status: groups.StatusFailed, Code: 409, Reason: groups.ReasonAlreadyParticipant},
	}, res)
	d = groupEvent(t, rec, event.GroupMemberAdded)
	require.Equal(t, []any{dave}, d["participants"], "only the participants added")
	require.Equal(t, me, d["by"])

	res, err = g.UpdateParticipants(ctx, created.ID, groups.ActionPromote, []string{carol})
	require.NoError(t, err)
	require.Equal(t, groups.StatusOK, res[0].Status)
	d = groupEvent(t, rec, event.GroupUpdated)
	require.Equal(t, []any{carol}, d["promoted"])

	res, err = g.UpdateParticipants(ctx, created.ID, groups.ActionDemote, []string{carol})
	require.NoError(t, err)
	require.Equal(t, groups.StatusOK, res[0].Status)
	d = groupEvent(t, rec, event.GroupUpdated)
	require.Equal(t, []any{carol}, d["demoted"])

	res, err = g.UpdateParticipants(ctx, created.ID, groups.ActionRemove, []string{bob, "15550009999"})
	require.NoError(t, err)
	require.Equal(t, []groups.ParticipantResult{
		{JID: bob, Status: groups.StatusOK},
		{JID: "15550009999@s.whatsapp.net", Status: groups.StatusFailed, Code: 404, Reason: groups.ReasonNotFound},
	}, res)
	d = groupEvent(t, rec, event.GroupMemberRemoved)
	require.Equal(t, []any{bob}, d["participants"])

	info, err := g.GroupInfo(ctx, created.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []groups.Participant{
		{JID: carol, Role: groups.RoleMember}, {JID: dave, Role: groups.RoleMember}, {JID: me, Role: groups.RoleSuperAdmin},
	}, info.Participants)

	// Another worker's driver — the channel moved — sees the same groups.
	s.Disconnect()
	s2, rec2 := open(t, f.driver(t), channelOf(t, f, jid), jid)
	connect(t, s2)
	sessiontest.Expect[session.Connected](t, rec2, wait)
	g2 := s2.(grouper)
	list, err = g2.ListGroups(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, info, list[0])

	require.NoError(t, g2.LeaveGroup(ctx, created.ID))
	d = groupEvent(t, rec2, event.GroupMemberRemoved)
	require.Equal(t, []any{me}, d["participants"])
	require.Equal(t, me, d["by"])
	list, err = g2.ListGroups(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = g2.GroupInfo(ctx, created.ID)
	require.ErrorIs(t, err, groups.ErrNotParticipant)
	require.ErrorIs(t, g2.LeaveGroup(ctx, created.ID), groups.ErrNotParticipant)
}

// Two simulated accounts share the simulated server's groups: what one
// does, the other sees, and only admins change participants.
func TestGroupsAcrossAccounts(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	d := f.driver(t)
	a, recA, jidA := online(t, f, d)
	b, _, jidB := online(t, f, d)
	ga, gb := a.(grouper), b.(grouper)

	created, err := ga.CreateGroup(ctx, "Shared", []string{user(jidB)})
	require.NoError(t, err)
	groupEvent(t, recA, event.GroupCreated)
	list, err := gb.ListGroups(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1, "the added account takes part")
	require.Equal(t, created.ID, list[0].ID)

	_, err = gb.UpdateParticipants(ctx, created.ID, groups.ActionAdd, []string{"15550002001"})
	require.ErrorIs(t, err, groups.ErrNotAdmin)
	_, err = gb.UpdateParticipants(ctx, created.ID, groups.ActionRemove, []string{user(jidA)})
	require.ErrorIs(t, err, groups.ErrNotAdmin)

	_, err = ga.UpdateParticipants(ctx, created.ID, groups.ActionPromote, []string{user(jidB)})
	require.NoError(t, err)
	res, err := gb.UpdateParticipants(ctx, created.ID, groups.ActionRemove, []string{user(jidA)})
	require.NoError(t, err)
	require.Equal(t, groups.ParticipantResult{JID: user(jidA), Status: groups.StatusFailed, Code: 403, Reason: groups.ReasonNotAuthorized}, res[0],
		"the creator cannot be removed")

	// The creator leaves: b is the last one and still an admin; when b
	// leaves too, the group is gone.
	require.NoError(t, ga.LeaveGroup(ctx, created.ID))
	info, err := gb.GroupInfo(ctx, created.ID)
	require.NoError(t, err)
	require.Equal(t, []groups.Participant{{JID: user(jidB), Role: groups.RoleAdmin}}, info.Participants)
	require.NoError(t, gb.LeaveGroup(ctx, created.ID))
	_, err = gb.GroupInfo(ctx, created.ID)
	require.ErrorIs(t, err, groups.ErrGroupNotFound)
	n, err := f.rdb.Exists(ctx, f.keys.SimGroup(created.ID), f.keys.SimGroupMembers(created.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "nothing of the group is left in Redis")
}

func TestGroupRequestsRefused(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	s, rec, _ := online(t, f, f.driver(t))
	g := s.(grouper)
	created, err := g.CreateGroup(ctx, "Refusals", []string{"15550003001"})
	require.NoError(t, err)
	groupEvent(t, rec, event.GroupCreated)

	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"an empty name", func() error { _, err := g.CreateGroup(ctx, "  ", nil); return err }, session.ErrInvalid},
		{"a name too long", func() error { _, err := g.CreateGroup(ctx, strings.Repeat("é", 101), nil); return err }, session.ErrInvalid},
		{"a group as participant", func() error {
			_, err := g.CreateGroup(ctx, "x", []string{"120363000000000001@g.us"})
			return err
		}, session.ErrInvalid},
		{"a short number", func() error { _, err := g.CreateGroup(ctx, "x", []string{"12345"}); return err }, session.ErrInvalid},
		{"an unknown action", func() error {
			_, err := g.UpdateParticipants(ctx, created.ID, "kick", []string{"15550003001"})
			return err
		}, session.ErrInvalid},
		{"no participants", func() error {
			_, err := g.UpdateParticipants(ctx, created.ID, groups.ActionRemove, nil)
			return err
		}, session.ErrInvalid},
		{"the account itself", func() error {
			_, err := g.UpdateParticipants(ctx, created.ID, groups.ActionRemove, []string{created.Owner})
			return err
		}, session.ErrInvalid},
		{"a group id that is not one", func() error { _, err := g.GroupInfo(ctx, "15550003001@s.whatsapp.net"); return err }, session.ErrInvalid},
		{"an unknown group", func() error { _, err := g.GroupInfo(ctx, "120363999999999999@g.us"); return err }, groups.ErrGroupNotFound},
		{"changing an unknown group", func() error {
			_, err := g.UpdateParticipants(ctx, "120363999999999999@g.us", groups.ActionAdd, []string{"15550003001"})
			return err
		}, groups.ErrGroupNotFound},
		{"leaving an unknown group", func() error { return g.LeaveGroup(ctx, "120363999999999999@g.us") }, groups.ErrGroupNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), tc.want)
		})
	}
	rec.Quiet(t, quiet)

	s.Disconnect()
	_, err = g.ListGroups(ctx)
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = g.CreateGroup(ctx, "offline", nil)
	require.ErrorIs(t, err, session.ErrNotConnected)
	require.ErrorIs(t, g.LeaveGroup(ctx, created.ID), session.ErrNotConnected)
}
