package whatsmeow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wagate/wagate/pkg/blocklist"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/groups"
	"github.com/wagate/wagate/pkg/session"
)

// This file is the contact, profile, blocklist and call capability
// (packages contacts, blocklist and calls document the contracts):
// whatsmeow's usync, profile, blocklist and call calls, and its device
// store (contacts from app state and push names, the LID ↔ phone-number
// map), translated to and from the plain types of those packages. Every
// answer carries both addresses of a user where the store or WhatsApp
// knows them.

// contactsClient is the part of whatsmeow's client the capability uses;
// tests stand in for it.
type contactsClient interface {
	IsOnWhatsApp(ctx context.Context, phones []string) ([]types.IsOnWhatsAppResponse, error)
	GetUserInfo(ctx context.Context, jids []types.JID) (map[types.JID]types.UserInfo, error)
	GetProfilePictureInfo(ctx context.Context, jid types.JID, params *wa.GetProfilePictureParams) (*types.ProfilePictureInfo, error)
	SetStatusMessage(ctx context.Context, msg string) error
	SendAppState(ctx context.Context, patch appstate.PatchInfo) error
	SetGroupPhoto(ctx context.Context, jid types.JID, avatar []byte) (string, error)
	GetBlocklist(ctx context.Context) (*types.Blocklist, error)
	UpdateBlocklist(ctx context.Context, jid types.JID, action events.BlocklistChangeAction) (*types.Blocklist, error)
	RejectCall(ctx context.Context, callFrom types.JID, callID string) error
}

var _ contactsClient = (*wa.Client)(nil)

// account is a logged-in client and its device store.
type account struct {
	cli contactsClient
	dev *store.Device
}

func (s *Session) account(op string) (account, error) {
	cli, err := s.loggedIn()
	if err != nil {
		return account{}, fmt.Errorf("whatsmeow: %s: %w", op, err)
	}
	return account{cli: cli, dev: cli.Store}, nil
}

// CheckNumbers implements contacts.Checker.
func (s *Session) CheckNumbers(ctx context.Context, phones []string) ([]contacts.Check, error) {
	a, err := s.account("check numbers")
	if err != nil {
		return nil, err
	}
	return a.checkNumbers(ctx, phones)
}

// Contacts implements contacts.Directory.
func (s *Session) Contacts(ctx context.Context) ([]contacts.Contact, error) {
	a, err := s.account("contacts")
	if err != nil {
		return nil, err
	}
	return a.contacts(ctx)
}

// ContactInfo implements contacts.Directory.
func (s *Session) ContactInfo(ctx context.Context, contact string) (contacts.Contact, error) {
	a, err := s.account("contact info")
	if err != nil {
		return contacts.Contact{}, err
	}
	return a.contactInfo(ctx, contact)
}

// ContactPicture implements contacts.Directory.
func (s *Session) ContactPicture(ctx context.Context, contact string, preview bool) (contacts.Picture, error) {
	a, err := s.account("contact picture")
	if err != nil {
		return contacts.Picture{}, err
	}
	return a.contactPicture(ctx, contact, preview)
}

// Profile implements contacts.Profiler.
func (s *Session) Profile(ctx context.Context) (contacts.Profile, error) {
	a, err := s.account("profile")
	if err != nil {
		return contacts.Profile{}, err
	}
	return a.profile(ctx)
}

// SetProfile implements contacts.Profiler.
func (s *Session) SetProfile(ctx context.Context, u contacts.ProfileUpdate) (contacts.Profile, error) {
	a, err := s.account("set profile")
	if err != nil {
		return contacts.Profile{}, err
	}
	return a.setProfile(ctx, u)
}

// SetProfilePicture implements contacts.Profiler.
func (s *Session) SetProfilePicture(ctx context.Context, jpeg []byte) (string, error) {
	a, err := s.account("set profile picture")
	if err != nil {
		return "", err
	}
	return a.setProfilePicture(ctx, jpeg)
}

// Blocklist implements blocklist.Blocker.
func (s *Session) Blocklist(ctx context.Context) ([]blocklist.Entry, error) {
	a, err := s.account("blocklist")
	if err != nil {
		return nil, err
	}
	return a.blocklist(ctx)
}

// SetBlocked implements blocklist.Blocker.
func (s *Session) SetBlocked(ctx context.Context, contact string, blocked bool) ([]blocklist.Entry, error) {
	a, err := s.account("block")
	if err != nil {
		return nil, err
	}
	return a.setBlocked(ctx, contact, blocked)
}

// RejectCall implements calls.Rejecter.
func (s *Session) RejectCall(ctx context.Context, from, callID string) error {
	a, err := s.account("reject call")
	if err != nil {
		return err
	}
	return a.rejectCall(ctx, from, callID)
}

// queryError maps whatsmeow's errors of an info query.
func queryError(err error) error {
	switch {
	case errors.Is(err, wa.ErrIQRateOverLimit):
		return errors.Join(groups.ErrRateLimited, err)
	case errors.Is(err, wa.ErrIQNotFound):
		return errors.Join(contacts.ErrContactNotFound, err)
	case errors.Is(err, wa.ErrIQBadRequest), errors.Is(err, wa.ErrIQNotAcceptable):
		return errors.Join(session.ErrInvalid, err)
	}
	return sendError(err)
}

func (a account) checkNumbers(ctx context.Context, phones []string) ([]contacts.Check, error) {
	query := make([]string, len(phones))
	out := make([]contacts.Check, len(phones))
	for i, p := range phones {
		d, ok := contacts.NormalizePhone(p)
		if !ok {
			return nil, fmt.Errorf("whatsmeow: check numbers: %w: %q is not a phone number", session.ErrInvalid, p)
		}
		query[i], out[i] = "+"+d, contacts.Check{Phone: d}
	}
	res, err := a.cli.IsOnWhatsApp(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: check numbers: %w", queryError(err))
	}
	byQuery := make(map[string]types.IsOnWhatsAppResponse, len(res))
	for _, r := range res {
		byQuery[strings.TrimPrefix(r.Query, "+")] = r
	}
	var pns []types.JID
	for i := range out {
		r, ok := byQuery[out[i].Phone]
		if !ok || !r.IsIn {
			continue
		}
		out[i].Exists, out[i].JID = true, jidString(r.JID)
		if r.VerifiedName != nil && r.VerifiedName.Details != nil {
			out[i].VerifiedName = r.VerifiedName.Details.GetVerifiedName()
		}
		pns = append(pns, r.JID.ToNonAD())
	}
	lids, err := a.dev.LIDs.GetManyLIDsForPNs(ctx, pns)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: check numbers: read LIDs: %w", err)
	}
	for i := range out {
		if !out[i].Exists {
			continue
		}
		if pn, err := types.ParseJID(out[i].JID); err == nil {
			out[i].LID = jidString(lids[pn])
		}
	}
	return out, nil
}

// addresses returns the phone-number JID and the LID of a user named by
// either, the other one from the store when it knows it.
func (a account) addresses(ctx context.Context, jid types.JID) (pn, lid types.JID, err error) {
	jid = jid.ToNonAD()
	switch jid.Server {
	case types.HiddenUserServer:
		pn, err = a.dev.LIDs.GetPNForLID(ctx, jid)
		return pn, jid, err
	case types.DefaultUserServer:
		lid, err = a.dev.LIDs.GetLIDForPN(ctx, jid)
		return jid, lid, err
	}
	return types.EmptyJID, types.EmptyJID, fmt.Errorf("%w: %s is not a user JID or a LID", session.ErrInvalid, jid)
}

func contactOf(pn, lid types.JID, info types.ContactInfo) contacts.Contact {
	c := contacts.Contact{JID: jidString(pn), LID: jidString(lid), Name: info.FullName, FirstName: info.FirstName,
		PushName: info.PushName, BusinessName: info.BusinessName}
	if pn.IsEmpty() {
		c.JID = c.LID
	} else {
		c.Phone = pn.User
	}
	return c
}

// contacts lists the store's contacts (address book from app state, push
// names seen), one per user: a user stored under both addresses is merged.
func (a account) contacts(ctx context.Context) ([]contacts.Contact, error) {
	all, err := a.dev.Contacts.GetAllContacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: contacts: %w", err)
	}
	byJID := map[string]contacts.Contact{}
	for jid, info := range all {
		pn, lid, err := a.addresses(ctx, jid)
		if errors.Is(err, session.ErrInvalid) {
			continue // not a user (a bot, a server)
		}
		if err != nil {
			return nil, fmt.Errorf("whatsmeow: contacts: %w", err)
		}
		c := contactOf(pn, lid, info)
		if prev, ok := byJID[c.JID]; ok {
			c = mergeContact(prev, c)
		}
		byJID[c.JID] = c
	}
	out := make([]contacts.Contact, 0, len(byJID))
	for _, c := range byJID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y contacts.Contact) int { return strings.Compare(x.JID, y.JID) })
	return out, nil
}

// mergeContact fills what a lacks from b.
func mergeContact(a, b contacts.Contact) contacts.Contact {
	for _, f := range []struct{ dst, src *string }{
		{&a.Phone, &b.Phone}, {&a.LID, &b.LID}, {&a.Name, &b.Name}, {&a.FirstName, &b.FirstName},
		{&a.PushName, &b.PushName}, {&a.BusinessName, &b.BusinessName},
	} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	return a
}

// contactInfo asks WhatsApp about a user: a phone number must be on
// WhatsApp (contacts.ErrContactNotFound otherwise); the answer joins
// WhatsApp's user info (about, verified name, picture, LID) with the
// names of the store.
func (a account) contactInfo(ctx context.Context, contact string) (contacts.Contact, error) {
	jid, err := userJID(contact)
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", err)
	}
	pn, lid, err := a.addresses(ctx, jid)
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", err)
	}
	if !pn.IsEmpty() {
		res, err := a.cli.IsOnWhatsApp(ctx, []string{"+" + pn.User})
		if err != nil {
			return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", queryError(err))
		}
		if len(res) == 0 || !res[0].IsIn {
			return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w: %s is not on WhatsApp", contacts.ErrContactNotFound, pn.User)
		}
	}
	ask := pn
	if ask.IsEmpty() {
		ask = lid
	}
	infos, err := a.cli.GetUserInfo(ctx, []types.JID{ask})
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", queryError(err))
	}
	info, ok := infos[ask]
	if !ok {
		return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w: WhatsApp knows no %s", contacts.ErrContactNotFound, ask)
	}
	if lid.IsEmpty() && !info.LID.IsEmpty() {
		lid = info.LID
	}
	names, err := a.dev.Contacts.GetContact(ctx, ask)
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", err)
	}
	if !names.Found && !lid.IsEmpty() && ask != lid {
		if names, err = a.dev.Contacts.GetContact(ctx, lid); err != nil {
			return contacts.Contact{}, fmt.Errorf("whatsmeow: contact info: %w", err)
		}
	}
	c := contactOf(pn, lid, names)
	if info.Status != "" {
		about := info.Status
		c.About = &about
	}
	if info.VerifiedName != nil && info.VerifiedName.Details != nil {
		c.VerifiedName = info.VerifiedName.Details.GetVerifiedName()
	}
	c.PictureID = info.PictureID
	return c, nil
}

func (a account) contactPicture(ctx context.Context, contact string, preview bool) (contacts.Picture, error) {
	jid, err := userJID(contact)
	if err != nil {
		return contacts.Picture{}, fmt.Errorf("whatsmeow: contact picture: %w", err)
	}
	p, err := a.cli.GetProfilePictureInfo(ctx, jid, &wa.GetProfilePictureParams{Preview: preview})
	switch {
	case errors.Is(err, wa.ErrProfilePictureNotSet):
		return contacts.Picture{}, fmt.Errorf("whatsmeow: contact picture of %s: %w", jid, errors.Join(contacts.ErrPictureNotFound, err))
	case errors.Is(err, wa.ErrProfilePictureUnauthorized):
		return contacts.Picture{}, fmt.Errorf("whatsmeow: contact picture of %s: %w", jid, errors.Join(contacts.ErrPictureHidden, err))
	case err != nil:
		return contacts.Picture{}, fmt.Errorf("whatsmeow: contact picture of %s: %w", jid, queryError(err))
	case p == nil:
		return contacts.Picture{}, fmt.Errorf("whatsmeow: contact picture of %s: %w", jid, contacts.ErrPictureNotFound)
	}
	typ := p.Type
	if typ == "" {
		typ = map[bool]string{true: "preview", false: "image"}[preview]
	}
	return contacts.Picture{JID: jidString(jid), ID: p.ID, URL: p.URL, Type: typ}, nil
}

func (a account) profile(ctx context.Context) (contacts.Profile, error) {
	own := a.dev.GetJID().ToNonAD()
	p := contacts.Profile{JID: jidString(own), Phone: own.User, LID: jidString(a.dev.GetLID()), PushName: a.dev.PushName}
	infos, err := a.cli.GetUserInfo(ctx, []types.JID{own})
	if err != nil {
		return contacts.Profile{}, fmt.Errorf("whatsmeow: profile: %w", queryError(err))
	}
	if info, ok := infos[own]; ok {
		p.About, p.PictureID = info.Status, info.PictureID
		if p.LID == "" {
			p.LID = jidString(info.LID)
		}
	}
	return p, nil
}

// setProfile sets the push name through app state (whatsmeow fetches the
// patch back and stores the new name) and the about text with
// SetStatusMessage; then reads the profile back.
func (a account) setProfile(ctx context.Context, u contacts.ProfileUpdate) (contacts.Profile, error) {
	if u.PushName != nil {
		name := strings.TrimSpace(*u.PushName)
		if name == "" || len([]rune(name)) > contacts.MaxPushName {
			return contacts.Profile{}, fmt.Errorf("whatsmeow: set push name: %w: 1 to %d characters", session.ErrInvalid, contacts.MaxPushName)
		}
		if err := a.cli.SendAppState(ctx, appstate.BuildSettingPushName(name)); err != nil {
			return contacts.Profile{}, fmt.Errorf("whatsmeow: set push name: %w", queryError(err))
		}
	}
	if u.About != nil {
		if len([]rune(*u.About)) > contacts.MaxAbout {
			return contacts.Profile{}, fmt.Errorf("whatsmeow: set about: %w: at most %d characters", session.ErrInvalid, contacts.MaxAbout)
		}
		if err := a.cli.SetStatusMessage(ctx, *u.About); err != nil {
			return contacts.Profile{}, fmt.Errorf("whatsmeow: set about: %w", queryError(err))
		}
	}
	return a.profile(ctx)
}

// setProfilePicture sets the own picture: SetGroupPhoto without a target.
func (a account) setProfilePicture(ctx context.Context, jpeg []byte) (string, error) {
	if len(jpeg) == 0 {
		return "", fmt.Errorf("whatsmeow: set profile picture: %w: no picture", session.ErrInvalid)
	}
	id, err := a.cli.SetGroupPhoto(ctx, types.EmptyJID, jpeg)
	if errors.Is(err, wa.ErrInvalidImageFormat) {
		return "", fmt.Errorf("whatsmeow: set profile picture: %w", errors.Join(contacts.ErrInvalidImage, err))
	}
	if err != nil {
		return "", fmt.Errorf("whatsmeow: set profile picture: %w", queryError(err))
	}
	return id, nil
}

func (a account) entries(ctx context.Context, l *types.Blocklist) ([]blocklist.Entry, error) {
	if l == nil {
		return []blocklist.Entry{}, nil
	}
	out := make([]blocklist.Entry, 0, len(l.JIDs))
	for _, j := range l.JIDs {
		pn, lid, err := a.addresses(ctx, j)
		if err != nil && !errors.Is(err, session.ErrInvalid) {
			return nil, err
		}
		c := contactOf(pn, lid, types.ContactInfo{})
		if c.JID == "" {
			c.JID = jidString(j)
		}
		out = append(out, blocklist.Entry{JID: c.JID, Phone: c.Phone, LID: c.LID})
	}
	slices.SortFunc(out, func(x, y blocklist.Entry) int { return strings.Compare(x.JID, y.JID) })
	return out, nil
}

func (a account) blocklist(ctx context.Context) ([]blocklist.Entry, error) {
	l, err := a.cli.GetBlocklist(ctx)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: blocklist: %w", queryError(err))
	}
	out, err := a.entries(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: blocklist: %w", err)
	}
	return out, nil
}

func (a account) setBlocked(ctx context.Context, contact string, blocked bool) ([]blocklist.Entry, error) {
	jid, err := userJID(contact)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: block: %w", err)
	}
	action := events.BlocklistChangeActionUnblock
	if blocked {
		action = events.BlocklistChangeActionBlock
	}
	l, err := a.cli.UpdateBlocklist(ctx, jid, action)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: %s %s: %w", action, jid, queryError(err))
	}
	out, err := a.entries(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("whatsmeow: block: %w", err)
	}
	return out, nil
}

func (a account) rejectCall(ctx context.Context, from, callID string) error {
	if callID == "" {
		return fmt.Errorf("whatsmeow: reject call: %w: no call id", session.ErrInvalid)
	}
	jid, err := userJID(from)
	if err != nil {
		return fmt.Errorf("whatsmeow: reject call: %w", err)
	}
	if err := a.cli.RejectCall(ctx, jid, callID); err != nil {
		return fmt.Errorf("whatsmeow: reject call %s: %w", callID, sendError(err))
	}
	return nil
}

// userJID parses a user named by phone number, phone-number JID or LID.
func userJID(v string) (types.JID, error) {
	jid, err := ParseJID(v)
	if err != nil {
		return types.EmptyJID, err
	}
	jid = jid.ToNonAD()
	if jid.Server != types.DefaultUserServer && jid.Server != types.HiddenUserServer {
		return types.EmptyJID, fmt.Errorf("%w: %s is not a user JID or a LID", session.ErrInvalid, jid)
	}
	return jid, nil
}
