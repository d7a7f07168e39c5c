package whatsmeow

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waVnameCert"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wagate/wagate/pkg/blocklist"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// fakeUsers stands in for WhatsApp's user, profile, blocklist and call
// servers: it answers with whatsmeow's own types, as whatsmeow parses
// them, and records what it was asked.
type fakeUsers struct {
	onWhatsApp map[string]types.IsOnWhatsAppResponse // by query ("+digits")
	infos      map[types.JID]types.UserInfo
	picture    *types.ProfilePictureInfo
	pictureErr error
	blocked    []types.JID
	err        error

	queries    [][]string
	infoAsked  []types.JID
	pictureFor struct {
		jid    types.JID
		params *wa.GetProfilePictureParams
	}
	status  *string
	patches []appstate.PatchInfo
	photo   struct {
		jid  types.JID
		data []byte
	}
	blockedBy []events.BlocklistChangeAction
	rejected  struct {
		from types.JID
		id   string
	}
}

func (f *fakeUsers) IsOnWhatsApp(_ context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error) {
	f.queries = append(f.queries, phones)
	if f.err != nil {
		return nil, f.err
	}
	var out []types.IsOnWhatsAppResponse
	for _, p := range phones {
		if r, ok := f.onWhatsApp[p]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeUsers) GetUserInfo(_ context.Context, jids []types.JID) (map[types.JID]types.UserInfo, error) {
	f.infoAsked = append(f.infoAsked, jids...)
	if f.err != nil {
		return nil, f.err
	}
	out := map[types.JID]types.UserInfo{}
	for _, j := range jids {
		if i, ok := f.infos[j]; ok {
			out[j] = i
		}
	}
	return out, nil
}

func (f *fakeUsers) GetProfilePictureInfo(_ context.Context, jid types.JID, params *wa.GetProfilePictureParams) (*types.ProfilePictureInfo, error) {
	f.pictureFor.jid, f.pictureFor.params = jid, params
	return f.picture, f.pictureErr
}

func (f *fakeUsers) SetStatusMessage(_ context.Context, msg string) error {
	f.status = &msg
	return f.err
}

func (f *fakeUsers) SendAppState(_ context.Context, patch appstate.PatchInfo) error {
	f.patches = append(f.patches, patch)
	return f.err
}

func (f *fakeUsers) SetGroupPhoto(_ context.Context, jid types.JID, avatar []byte) (string, error) {
	f.photo.jid, f.photo.data = jid, avatar
	if f.err != nil {
		return "", f.err
	}
	return "1733300000", nil
}

func (f *fakeUsers) GetBlocklist(context.Context) (*types.Blocklist, error) {
	return &types.Blocklist{DHash: "1", JIDs: f.blocked}, f.err
}

func (f *fakeUsers) UpdateBlocklist(_ context.Context, jid types.JID, action events.BlocklistChangeAction) (*types.Blocklist, error) {
	f.blockedBy = append(f.blockedBy, action)
	if f.err != nil {
		return nil, f.err
	}
	if action == events.BlocklistChangeActionBlock {
		f.blocked = append(f.blocked, jid)
	} else {
		for i, j := range f.blocked {
			if j == jid {
				f.blocked = append(f.blocked[:i], f.blocked[i+1:]...)
				break
			}
		}
	}
	return &types.Blocklist{DHash: "2", JIDs: f.blocked}, nil
}

func (f *fakeUsers) RejectCall(_ context.Context, from types.JID, id string) error {
	f.rejected.from, f.rejected.id = from, id
	return f.err
}

var (
	bobPN  = types.NewJID("15552220001", types.DefaultUserServer)
	bobLID = types.NewJID("98765432101234", types.HiddenUserServer)
	// carol is known only by her LID in a group that hides numbers.
	hiddenLID = types.NewJID("11122233344455", types.HiddenUserServer)
)

// testAccount is an account with a real device store (whatsmeow's
// sqlstore on Postgres) and a fake WhatsApp.
func testAccount(t *testing.T) (account, *fakeUsers) {
	t.Helper()
	ctx := context.Background()
	d := newFleet(t).driver(t, Config{})
	jid := storeDevice(t, d.container)
	dev, err := d.container.GetDevice(ctx, jid)
	require.NoError(t, err)
	dev.LID = types.NewADJID("55544433322211", 0, uint8(jid.Device))
	dev.LID.Server = types.HiddenUserServer
	require.NoError(t, dev.LIDs.PutLIDMapping(ctx, bobLID, bobPN))
	f := &fakeUsers{onWhatsApp: map[string]types.IsOnWhatsAppResponse{}, infos: map[types.JID]types.UserInfo{}}
	return account{cli: f, dev: dev}, f
}

func verified(name string) *types.VerifiedName {
	return &types.VerifiedName{
		Certificate: &waVnameCert.VerifiedNameCertificate{},
		Details:     &waVnameCert.VerifiedNameCertificate_Details{VerifiedName: proto.String(name)},
	}
}

func TestCheckNumbersWithWhatsmeowAnswers(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	f.onWhatsApp["+15552220001"] = types.IsOnWhatsAppResponse{Query: "+15552220001", JID: bobPN, IsIn: true, VerifiedName: verified("Bob's Builds")}
	f.onWhatsApp["+15552220000"] = types.IsOnWhatsAppResponse{Query: "+15552220000", JID: types.NewJID("15552220000", types.DefaultUserServer), IsIn: false}
	f.onWhatsApp["+15552220002"] = types.IsOnWhatsAppResponse{Query: "+15552220002", JID: types.NewJID("15552220002", types.DefaultUserServer), IsIn: true}

	got, err := a.checkNumbers(context.Background(), []string{"15552220001", "+1 555 222 0000", "15552220002", "15552220003"})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"+15552220001", "+15552220000", "+15552220002", "+15552220003"}}, f.queries, "one query, numbers with +")
	require.Equal(t, []contacts.Check{
		{Phone: "15552220001", Exists: true, JID: "15552220001@s.whatsapp.net", LID: "98765432101234@lid", VerifiedName: "Bob's Builds"},
		{Phone: "15552220000"},
		{Phone: "15552220002", Exists: true, JID: "15552220002@s.whatsapp.net"}, // no LID known
		{Phone: "15552220003"}, // WhatsApp did not answer for it
	}, got)

	_, err = a.checkNumbers(context.Background(), []string{"abc"})
	require.ErrorIs(t, err, session.ErrInvalid)
	f.err = wa.ErrIQRateOverLimit
	_, err = a.checkNumbers(context.Background(), []string{"15552220001"})
	require.ErrorIs(t, err, groups.ErrRateLimited)
	require.Equal(t, groups.CodeRateLimited, groups.ErrorOf(contacts.ErrorOf(err)).Code)
}

// Contacts come from whatsmeow's store (address book from app state, push
// names), one per user with both addresses where the LID map knows them.
func TestContactsFromTheDeviceStore(t *testing.T) {
	t.Parallel()
	a, _ := testAccount(t)
	ctx := context.Background()
	require.NoError(t, a.dev.Contacts.PutContactName(ctx, bobPN, "Bob", "Bob Builder")) // first name, then full name, as appstate.go calls it
	_, _, err := a.dev.Contacts.PutPushName(ctx, bobLID, "bob")                         // seen in a group under his LID
	require.NoError(t, err)
	_, _, err = a.dev.Contacts.PutPushName(ctx, hiddenLID, "carol")
	require.NoError(t, err)
	_, _, err = a.dev.Contacts.PutBusinessName(ctx, types.NewJID("15552220009", types.DefaultUserServer), "Acme Ltd")
	require.NoError(t, err)

	got, err := a.contacts(ctx)
	require.NoError(t, err)
	require.Equal(t, []contacts.Contact{
		{JID: "11122233344455@lid", LID: "11122233344455@lid", PushName: "carol"},
		{JID: "15552220001@s.whatsapp.net", Phone: "15552220001", LID: "98765432101234@lid", Name: "Bob Builder", FirstName: "Bob", PushName: "bob"},
		{JID: "15552220009@s.whatsapp.net", Phone: "15552220009", BusinessName: "Acme Ltd"},
	}, got)
}

func TestContactInfoWithWhatsmeowAnswers(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	ctx := context.Background()
	require.NoError(t, a.dev.Contacts.PutContactName(ctx, bobPN, "Bob", "Bob Builder")) // first name, then full name, as appstate.go calls it
	f.onWhatsApp["+15552220001"] = types.IsOnWhatsAppResponse{Query: "+15552220001", JID: bobPN, IsIn: true}
	f.infos[bobPN] = types.UserInfo{Status: "Can we fix it?", PictureID: "1700000000", LID: bobLID, VerifiedName: verified("Bob's Builds")}

	about := "Can we fix it?"
	want := contacts.Contact{JID: "15552220001@s.whatsapp.net", Phone: "15552220001", LID: "98765432101234@lid",
		Name: "Bob Builder", FirstName: "Bob", About: &about, VerifiedName: "Bob's Builds", PictureID: "1700000000"}
	for _, id := range []string{"15552220001", "15552220001:3@s.whatsapp.net", "98765432101234@lid"} {
		got, err := a.contactInfo(ctx, id)
		require.NoError(t, err, id)
		require.Equal(t, want, got, id)
	}
	require.Equal(t, bobPN, f.infoAsked[len(f.infoAsked)-1], "a LID is asked about by its phone number when the store knows it")

	// A number WhatsApp does not know.
	f.onWhatsApp["+15552220000"] = types.IsOnWhatsAppResponse{Query: "+15552220000", JID: types.NewJID("15552220000", types.DefaultUserServer)}
	_, err := a.contactInfo(ctx, "15552220000")
	require.ErrorIs(t, err, contacts.ErrContactNotFound)
	require.Equal(t, contacts.CodeContactNotFound, groups.ErrorOf(contacts.ErrorOf(err)).Code)
	// A LID without a known number: asked as it is; unknown to WhatsApp.
	_, err = a.contactInfo(ctx, hiddenLID.String())
	require.ErrorIs(t, err, contacts.ErrContactNotFound)
	require.Equal(t, hiddenLID, f.infoAsked[len(f.infoAsked)-1])
	_, err = a.contactInfo(ctx, "120363000000000001@g.us")
	require.ErrorIs(t, err, session.ErrInvalid)
}

func TestContactPictureWithWhatsmeowAnswers(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	ctx := context.Background()
	f.picture = &types.ProfilePictureInfo{URL: "https://pps.whatsapp.net/v/t61/x.jpg", ID: "1700000001", Type: "preview", DirectPath: "/v/t61/x.jpg"}
	got, err := a.contactPicture(ctx, "98765432101234@lid", true)
	require.NoError(t, err)
	require.Equal(t, contacts.Picture{JID: "98765432101234@lid", ID: "1700000001", URL: "https://pps.whatsapp.net/v/t61/x.jpg", Type: "preview"}, got)
	require.Equal(t, bobLID, f.pictureFor.jid)
	require.True(t, f.pictureFor.params.Preview)

	for werr, want := range map[error]error{
		wa.ErrProfilePictureNotSet:       contacts.ErrPictureNotFound,
		wa.ErrProfilePictureUnauthorized: contacts.ErrPictureHidden,
	} {
		f.picture, f.pictureErr = nil, werr
		_, err := a.contactPicture(ctx, "15552220001", false)
		require.ErrorIs(t, err, want)
		require.False(t, f.pictureFor.params.Preview)
	}
	f.pictureErr = nil // whatsmeow answers nil, nil when the picture did not change
	_, err = a.contactPicture(ctx, "15552220001", false)
	require.ErrorIs(t, err, contacts.ErrPictureNotFound)
}

func TestProfileWithWhatsmeowCalls(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	ctx := context.Background()
	own := a.dev.GetJID().ToNonAD()
	f.infos[own] = types.UserInfo{Status: "Open 9-17", PictureID: "1700000002"}

	p, err := a.profile(ctx)
	require.NoError(t, err)
	require.Equal(t, contacts.Profile{JID: own.String(), Phone: own.User, LID: "55544433322211@lid", PushName: "Test Shop", About: "Open 9-17", PictureID: "1700000002"}, p)

	name, about := "Acme Support", "We answer 9-17 CET"
	_, err = a.setProfile(ctx, contacts.ProfileUpdate{PushName: &name, About: &about})
	require.NoError(t, err)
	require.Len(t, f.patches, 1)
	require.Equal(t, appstate.WAPatchCriticalBlock, f.patches[0].Type, "the push name is an app-state setting")
	require.Equal(t, []string{appstate.IndexSettingPushName}, f.patches[0].Mutations[0].Index)
	require.Equal(t, name, f.patches[0].Mutations[0].Value.GetPushNameSetting().GetName())
	require.Equal(t, &about, f.status)

	long := string(make([]rune, contacts.MaxAbout+1))
	_, err = a.setProfile(ctx, contacts.ProfileUpdate{About: &long})
	require.ErrorIs(t, err, session.ErrInvalid)

	id, err := a.setProfilePicture(ctx, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	require.NoError(t, err)
	require.Equal(t, "1733300000", id)
	require.Equal(t, types.EmptyJID, f.photo.jid, "the own picture is set without a target")
	f.err = wa.ErrInvalidImageFormat
	_, err = a.setProfilePicture(ctx, []byte("GIF89a"))
	require.ErrorIs(t, err, contacts.ErrInvalidImage)
}

func TestBlocklistWithWhatsmeowCalls(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	ctx := context.Background()
	f.blocked = []types.JID{hiddenLID}

	got, err := a.setBlocked(ctx, "98765432101234@lid", true)
	require.NoError(t, err)
	require.Equal(t, []events.BlocklistChangeAction{events.BlocklistChangeActionBlock}, f.blockedBy)
	require.Equal(t, []blocklist.Entry{
		{JID: "11122233344455@lid", LID: "11122233344455@lid"},
		{JID: "15552220001@s.whatsapp.net", Phone: "15552220001", LID: "98765432101234@lid"},
	}, got)
	got, err = a.setBlocked(ctx, "98765432101234@lid", false)
	require.NoError(t, err)
	require.Equal(t, events.BlocklistChangeActionUnblock, f.blockedBy[1])
	require.Len(t, got, 1)
	list, err := a.blocklist(ctx)
	require.NoError(t, err)
	require.Equal(t, got, list)
}

func TestRejectCallWithWhatsmeow(t *testing.T) {
	t.Parallel()
	a, f := testAccount(t)
	require.NoError(t, a.rejectCall(context.Background(), "15552220001:12@s.whatsapp.net", "CALLID1"))
	require.Equal(t, bobPN, f.rejected.from)
	require.Equal(t, "CALLID1", f.rejected.id)
	require.ErrorIs(t, a.rejectCall(context.Background(), "15552220001", ""), session.ErrInvalid)
	f.err = wa.ErrNotConnected
	require.ErrorIs(t, a.rejectCall(context.Background(), "15552220001", "CALLID2"), session.ErrNotConnected)
}

// A session that is not logged in answers every call with
// session.ErrNotConnected, which the methods report as
// channel_not_active.
func TestContactsNeedALoggedInClient(t *testing.T) {
	t.Parallel()
	d := newFleet(t).driver(t, Config{})
	s, _ := open(t, d, "")
	_, err := s.CheckNumbers(context.Background(), []string{"15552220001"})
	require.ErrorIs(t, err, session.ErrNotConnected)
	raw, _ := json.Marshal(contacts.Params{})
	_, err = contacts.Methods[contacts.MethodProfile](context.Background(), s, raw)
	require.Equal(t, groups.CodeChannelNotActive, groups.ErrorOf(err).Code)
	require.True(t, errors.Is(s.RejectCall(context.Background(), "15552220001", "X"), session.ErrNotConnected))
}
