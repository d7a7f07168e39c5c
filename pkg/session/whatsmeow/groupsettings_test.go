package whatsmeow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

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

// fakeGroupAdmin stands in for WhatsApp's group server for the invite,
// settings and picture calls, recording them in order.
type fakeGroupAdmin struct {
	fakeGroups
	link      string // GetGroupInviteLink's answer
	byCode    map[string]*types.GroupInfo
	joinJID   types.JID        // JoinGroupWithLink's answer
	pictureID string           // SetGroupPhoto's answer
	errs      map[string]error // by call
	calls     []string
}

func (f *fakeGroupAdmin) call(name string, args ...any) error {
	f.calls = append(f.calls, fmt.Sprint(append([]any{name}, args...)...))
	return f.errs[name]
}

func (f *fakeGroupAdmin) GetGroupInviteLink(_ context.Context, jid types.JID, reset bool) (string, error) {
	return f.link, f.call("invite ", jid, " ", reset)
}

func (f *fakeGroupAdmin) GetGroupInfoFromLink(_ context.Context, code string) (*types.GroupInfo, error) {
	if err := f.call("link info ", code); err != nil {
		return nil, err
	}
	info, ok := f.byCode[code]
	if !ok {
		return nil, iqErr(wa.ErrInviteLinkInvalid, wa.ErrIQNotAcceptable)
	}
	return info, nil
}

func (f *fakeGroupAdmin) JoinGroupWithLink(_ context.Context, code string) (types.JID, error) {
	return f.joinJID, f.call("join ", code)
}

func (f *fakeGroupAdmin) SetGroupName(_ context.Context, jid types.JID, name string) error {
	return f.call("name ", jid, " ", name)
}

func (f *fakeGroupAdmin) SetGroupTopic(_ context.Context, jid types.JID, prev, newID, topic string) error {
	return f.call("topic ", jid, " prev=", prev, " new=", newID, " ", topic)
}

func (f *fakeGroupAdmin) SetGroupAnnounce(_ context.Context, jid types.JID, announce bool) error {
	return f.call("announce ", jid, " ", announce)
}

func (f *fakeGroupAdmin) SetGroupLocked(_ context.Context, jid types.JID, locked bool) error {
	return f.call("locked ", jid, " ", locked)
}

func (f *fakeGroupAdmin) SetGroupPhoto(_ context.Context, jid types.JID, avatar []byte) (string, error) {
	if err := f.call("photo ", jid, " ", len(avatar), " ", avatar == nil); err != nil {
		return "", err
	}
	if avatar == nil {
		return "remove", nil // as whatsmeow answers a removal
	}
	return f.pictureID, nil
}

// iqErr is an error as whatsmeow's wrapIQError makes it: errors.Is the
// named error, and errors.As the IQError WhatsApp answered.
func iqErr(human, iq error) error { return fmt.Errorf("%w (%w)", human, iq) }

// adminOf is the account me, as superadmin of teamInfo's group.
func adminOf(f *fakeGroupAdmin) groupAdmin {
	return groupAdmin{cli: f, self: []types.JID{me, types.NewJID("70000000000001", types.HiddenUserServer)}}
}

// memberOf is the account carol, a member named by LID in teamInfo.
func memberOf(f *fakeGroupAdmin) groupAdmin {
	return groupAdmin{cli: f, self: []types.JID{carol, carolLID}}
}

func TestInviteLinkTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &fakeGroupAdmin{link: wa.InviteLinkPrefix + "AbCdEfGhIjKlMnOpQrStUv"}
	inv, err := adminOf(f).inviteLink(ctx, " "+group.String(), false)
	require.NoError(t, err)
	require.Equal(t, groups.Invite{Group: group.String(), Invite: "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", Code: "AbCdEfGhIjKlMnOpQrStUv"}, inv)
	_, err = adminOf(f).inviteLink(ctx, group.String(), true)
	require.NoError(t, err)
	require.Equal(t, []string{"invite " + group.String() + " false", "invite " + group.String() + " true"}, f.calls)

	// GetGroupInviteLink's errors, as whatsmeow wraps WhatsApp's answers.
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"401: no admin", iqErr(wa.ErrGroupInviteLinkUnauthorized, wa.ErrIQNotAuthorized), groups.ErrNotAdmin},
		{"403: not in the group", iqErr(wa.ErrNotInGroup, wa.ErrIQForbidden), groups.ErrNotParticipant},
		{"404: no such group", iqErr(wa.ErrGroupNotFound, wa.ErrIQNotFound), groups.ErrGroupNotFound},
		{"429", wa.ErrIQRateOverLimit, groups.ErrRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroupAdmin{errs: map[string]error{"invite ": tc.err}}
			_, err := adminOf(f).inviteLink(ctx, group.String(), true)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, tc.err, "the cause is kept")
		})
	}
	_, err = adminOf(&fakeGroupAdmin{}).inviteLink(ctx, alice.String(), false)
	require.ErrorIs(t, err, session.ErrInvalid, "a user is not a group")
	require.Equal(t, groups.CodeNotAdmin, groups.ErrorOf(fmt.Errorf("x: %w", groups.ErrNotAdmin)).Code)
}

func TestInviteLinkParsing(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv":    "AbCdEfGhIjKlMnOpQrStUv",
		" https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv/ ": "AbCdEfGhIjKlMnOpQrStUv",
		"http://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv":     "AbCdEfGhIjKlMnOpQrStUv",
		"chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv":            "AbCdEfGhIjKlMnOpQrStUv",
		"AbCdEfGhIjKlMnOpQrStUv":                              "AbCdEfGhIjKlMnOpQrStUv",
		wa.InviteLinkPrefix + "Abc123Xyz9":                    "Abc123Xyz9",
	} {
		code, ok := groups.ParseInvite(in)
		require.True(t, ok, in)
		require.Equal(t, want, code, in)
	}
	for _, in := range []string{"", "https://chat.whatsapp.com/", "https://example.com/AbCdEfGhIjKlMnOpQrStUv", "AbCd EfGh IjKl", "short", "https://chat.whatsapp.com/AbCdEfGh?x=1"} {
		_, ok := groups.ParseInvite(in)
		require.False(t, ok, in)
	}
}

func TestJoinGroupTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const code = "AbCdEfGhIjKlMnOpQrStUv"
	linkInfo := func() *types.GroupInfo {
		info := teamInfo()
		info.IsJoinApprovalRequired = false
		return info
	}
	joinedInfo := func() *types.GroupInfo {
		info := linkInfo()
		info.Participants = append(info.Participants, types.GroupParticipant{JID: bob, PhoneNumber: bob})
		return info
	}
	bobOf := func(f *fakeGroupAdmin) groupAdmin { return groupAdmin{cli: f, self: []types.JID{bob}} }

	// Joined: resolved, joined, and read as a participant sees it.
	f := &fakeGroupAdmin{byCode: map[string]*types.GroupInfo{code: linkInfo()}, joinJID: group}
	f.info = joinedInfo()
	j, err := bobOf(f).join(ctx, wa.InviteLinkPrefix+code)
	require.NoError(t, err)
	require.Equal(t, groups.JoinJoined, j.Status)
	require.Equal(t, group.String(), j.ID)
	require.Contains(t, j.Participants, groups.Participant{JID: bob.String(), Role: groups.RoleMember})
	require.Equal(t, []string{"link info " + code, "join " + code}, f.calls, "the code without the link's prefix")

	// Admins approve new members: pending, with the group the link shows.
	pending := linkInfo()
	pending.IsJoinApprovalRequired = true
	f = &fakeGroupAdmin{byCode: map[string]*types.GroupInfo{code: pending}, joinJID: group}
	j, err = bobOf(f).join(ctx, code)
	require.NoError(t, err)
	require.Equal(t, groups.JoinPending, j.Status)
	require.Equal(t, "Team", j.Name)
	require.NotContains(t, j.Participants, groups.Participant{JID: bob.String(), Role: groups.RoleMember})

	// In the group already: nothing to join.
	f = &fakeGroupAdmin{byCode: map[string]*types.GroupInfo{code: joinedInfo()}}
	f.info = joinedInfo()
	j, err = bobOf(f).join(ctx, code)
	require.NoError(t, err)
	require.Equal(t, groups.JoinJoined, j.Status)
	require.Equal(t, []string{"link info " + code}, f.calls)

	// WhatsApp says 409 (a participant already): joined.
	f = &fakeGroupAdmin{byCode: map[string]*types.GroupInfo{code: linkInfo()}, errs: map[string]error{"join ": &wa.IQError{Code: 409, Text: "conflict"}}}
	f.info = joinedInfo()
	j, err = bobOf(f).join(ctx, code)
	require.NoError(t, err)
	require.Equal(t, groups.JoinJoined, j.Status)

	for _, tc := range []struct {
		name      string
		call      string
		err, want error
	}{
		{"an unknown code (406)", "link info ", iqErr(wa.ErrInviteLinkInvalid, wa.ErrIQNotAcceptable), groups.ErrInviteInvalid},
		{"a revoked code (410)", "link info ", iqErr(wa.ErrInviteLinkRevoked, wa.ErrIQGone), groups.ErrInviteRevoked},
		{"a 404", "link info ", wa.ErrIQNotFound, groups.ErrInviteInvalid},
		{"revoked between resolving and joining", "join ", iqErr(wa.ErrInviteLinkRevoked, wa.ErrIQGone), groups.ErrInviteRevoked},
		{"a refusal (403)", "join ", wa.ErrIQForbidden, groups.ErrJoinRefused},
		{"a timeout", "join ", wa.ErrIQTimedOut, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroupAdmin{byCode: map[string]*types.GroupInfo{code: linkInfo()}, errs: map[string]error{tc.call: tc.err}}
			_, err := bobOf(f).join(ctx, code)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, tc.err)
		})
	}
	codes := map[error]string{groups.ErrInviteInvalid: "invite_invalid", groups.ErrInviteRevoked: "invite_revoked", groups.ErrJoinRefused: "join_refused"}
	statuses := map[error]int{groups.ErrInviteInvalid: 404, groups.ErrInviteRevoked: 410, groups.ErrJoinRefused: 403}
	for sentinel, code := range codes {
		e := groups.ErrorOf(fmt.Errorf("x: %w", sentinel))
		require.Equal(t, code, e.Code)
		require.Equal(t, statuses[sentinel], groups.Status(e.Code))
	}

	f = &fakeGroupAdmin{}
	_, err = bobOf(f).join(ctx, "https://example.com/"+code)
	require.ErrorIs(t, err, session.ErrInvalid)
	require.Empty(t, f.calls, "nothing reached WhatsApp")
}

func TestUpdateGroupTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	yes, no := true, false
	team := func() *types.GroupInfo {
		info := teamInfo() // announce on, unlocked, topic "plans"
		info.TopicID = "TOPIC1"
		return info
	}

	f := &fakeGroupAdmin{}
	f.info = team()
	g, err := adminOf(f).update(ctx, group.String(), groups.Update{Name: str(" Team B "), Description: str(""), Announce: &no, Locked: &yes})
	require.NoError(t, err)
	gs := group.String()
	require.Equal(t, []string{
		"name " + gs + " Team B",
		"topic " + gs + " prev=TOPIC1 new= ", // the previous topic's id; whatsmeow makes the new one
		"announce " + gs + " false",
		"locked " + gs + " true",
	}, f.calls)
	require.Equal(t, "Team B", g.Name)
	require.Empty(t, g.Topic)
	require.False(t, g.Announce)
	require.True(t, g.Locked)
	require.Len(t, g.Participants, 3)

	// What has its value already is not sent.
	f = &fakeGroupAdmin{}
	f.info = team()
	_, err = adminOf(f).update(ctx, group.String(), groups.Update{Name: str("Team"), Description: str("plans"), Announce: &yes, Locked: &yes})
	require.NoError(t, err)
	require.Equal(t, []string{"locked " + gs + " true"}, f.calls)

	for _, tc := range []struct {
		name   string
		locked bool
		u      groups.Update
		ok     bool
	}{
		{"a member names an unlocked group", false, groups.Update{Name: str("Ours")}, true},
		{"a member describes an unlocked group", false, groups.Update{Description: str("ours")}, true},
		{"a member names a locked group", true, groups.Update{Name: str("Ours")}, false},
		{"a member sets announce", false, groups.Update{Announce: &no}, false},
		{"a member locks", false, groups.Update{Locked: &yes}, false},
		{"a member names and sets announce", false, groups.Update{Name: str("Ours"), Announce: &no}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeGroupAdmin{}
			f.info = team()
			f.info.IsLocked = tc.locked
			_, err := memberOf(f).update(ctx, group.String(), tc.u)
			if tc.ok {
				require.NoError(t, err)
				require.Len(t, f.calls, 1)
				return
			}
			require.ErrorIs(t, err, groups.ErrNotAdmin)
			require.Empty(t, f.calls, "refused whole: nothing reached WhatsApp")
		})
	}

	f = &fakeGroupAdmin{}
	f.info = team()
	outsider := groupAdmin{cli: f, self: []types.JID{bob}}
	_, err = outsider.update(ctx, group.String(), groups.Update{Name: str("x")})
	require.ErrorIs(t, err, groups.ErrNotParticipant)
	_, err = adminOf(f).update(ctx, "120363000000000099@g.us", groups.Update{Name: str("x")})
	require.ErrorIs(t, err, groups.ErrGroupNotFound)
	for _, u := range []groups.Update{{Name: str("  ")}, {Name: str(string(make([]rune, 101)))}, {Description: str(string(make([]rune, 2049)))}} {
		_, err = adminOf(f).update(ctx, group.String(), u)
		require.ErrorIs(t, err, session.ErrInvalid)
	}
	require.Empty(t, f.calls)

	// WhatsApp's refusal of one setting: the ones before it stay made.
	f = &fakeGroupAdmin{errs: map[string]error{"announce ": wa.ErrIQForbidden}}
	f.info = team()
	_, err = adminOf(f).update(ctx, group.String(), groups.Update{Name: str("Team C"), Announce: &no})
	require.ErrorIs(t, err, groups.ErrNotAdmin)
	require.ErrorIs(t, err, wa.ErrIQForbidden)
	require.Len(t, f.calls, 2)
}

func TestGroupPictureTranslation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0}
	f := &fakeGroupAdmin{pictureID: "1733400000"}
	f.info = teamInfo()
	id, err := adminOf(f).setPicture(ctx, group.String(), jpeg)
	require.NoError(t, err)
	require.Equal(t, "1733400000", id)
	id, err = adminOf(f).setPicture(ctx, group.String(), nil)
	require.NoError(t, err)
	require.Empty(t, id, "a removal has no id (whatsmeow answers \"remove\")")
	require.Equal(t, []string{"photo " + group.String() + " 4 false", "photo " + group.String() + " 0 true"}, f.calls)

	f = &fakeGroupAdmin{errs: map[string]error{"photo ": iqErr(wa.ErrInvalidImageFormat, wa.ErrIQNotAcceptable)}}
	f.info = teamInfo()
	_, err = adminOf(f).setPicture(ctx, group.String(), []byte("GIF89a"))
	require.ErrorIs(t, err, groups.ErrInvalidImage)
	require.Equal(t, groups.CodeInvalidImage, groups.ErrorOf(err).Code)

	f = &fakeGroupAdmin{}
	f.info = teamInfo()
	f.info.IsLocked = true
	_, err = memberOf(f).setPicture(ctx, group.String(), jpeg)
	require.ErrorIs(t, err, groups.ErrNotAdmin)
	require.Empty(t, f.calls)
	f.info.IsLocked = false
	_, err = memberOf(f).setPicture(ctx, group.String(), jpeg)
	require.NoError(t, err, "anyone may while the group is unlocked")
}

func TestGroupSettingsNeedALoggedInSession(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, _ := open(t, d, "")
	ctx := context.Background()
	_, err := s.InviteLink(ctx, group.String(), false)
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.JoinGroup(ctx, "AbCdEfGhIjKlMnOpQrStUv")
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.UpdateGroup(ctx, group.String(), groups.Update{Locked: new(bool)})
	require.ErrorIs(t, err, session.ErrNotConnected)
	_, err = s.SetGroupPicture(ctx, group.String(), nil)
	require.ErrorIs(t, err, session.ErrNotConnected)
}

// WhatsApp's notifications of our own changes, as whatsmeow emits them,
// become exactly the events the simulator emits for the same changes
// (pkg/groups/groupsapi's tests assert the simulator's).
func TestGroupChangeNotifications(t *testing.T) {
	t.Parallel()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	meAD := types.NewADJID(me.User, 0, 2)
	link := wa.InviteLinkPrefix + "ZyXwVuTsRqPoNmLkJiHgFe"
	yes := true
	by := me.String()
	for _, tc := range []struct {
		name string
		evt  any
		typ  string
		data map[string]any
	}{
		{"name", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, Name: &types.GroupName{Name: "Team A", NameSetBy: meAD}},
			event.GroupUpdated, map[string]any{"name": "Team A", "by": by}},
		{"description", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, Topic: &types.GroupTopic{Topic: "plans", TopicID: "T2"}},
			event.GroupUpdated, map[string]any{"topic": "plans", "by": by}},
		{"description removed", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, Topic: &types.GroupTopic{TopicID: "T3", TopicDeleted: true}},
			event.GroupUpdated, map[string]any{"topic_deleted": true, "by": by}},
		{"announce", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, Announce: &types.GroupAnnounce{IsAnnounce: true, AnnounceVersionID: "v1"}},
			event.GroupUpdated, map[string]any{"announce": true, "by": by}},
		{"locked", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, Locked: &types.GroupLocked{IsLocked: yes}},
			event.GroupUpdated, map[string]any{"locked": true, "by": by}},
		{"invite link reset", &events.GroupInfo{JID: group, Sender: &meAD, Timestamp: sent, NewInviteLink: &link},
			event.GroupUpdated, map[string]any{"invite_link": link, "by": by}},
		{"picture", &events.Picture{JID: group, Author: meAD, Timestamp: sent, PictureID: "1733400000"},
			event.GroupUpdated, map[string]any{"picture_id": "1733400000", "by": by}},
		{"picture removed", &events.Picture{JID: group, Author: meAD, Timestamp: sent, Remove: true},
			event.GroupUpdated, map[string]any{"picture_removed": true, "by": by}},
		{"joined by link", &events.GroupInfo{JID: group, Notify: "invite", Timestamp: sent, JoinReason: "invite", Join: []types.JID{me}},
			event.GroupMemberAdded, map[string]any{"participants": []any{by}, "reason": "invite"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, data := inboundOf(t, tc.evt, tc.typ)
			require.Equal(t, sent, in.At)
			require.Equal(t, group.String(), data["group"])
			delete(data, "group")
			delete(data, "timestamp")
			require.Equal(t, tc.data, data)
			env, err := event.New(in.Type, ids.New(ids.Channel), 1, in.At, in.Data)
			require.NoError(t, err)
			raw, err := json.Marshal(env)
			require.NoError(t, err)
			require.NoError(t, v.ValidateEvent(raw), "%s", in.Data)
		})
	}
	// A user's picture is no group event.
	require.Empty(t, translate(&events.Picture{JID: alice, Author: alice, PictureID: "1"}, now))
	require.True(t, errors.Is(iqErr(wa.ErrInviteLinkRevoked, wa.ErrIQGone), wa.ErrIQGone))
}
