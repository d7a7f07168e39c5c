package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/wagate/wagate/pkg/blocklist"
	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/store"
)

// This file is the contact, profile, blocklist and call capability of a
// simulated session (packages contacts, blocklist and calls document the
// contracts). The simulated WhatsApp server keeps, in Redis and shared by
// the fleet:
//
//	SimUser(u)       hash  a user's public profile: push_name, about,
//	                       business_name, verified_name, picture_id,
//	                       picture_hidden ("1": hidden from others)
//	SimContacts(u)   hash  account u's contact store: user JID → its names
//	                       (address book name, first name) as JSON
//	SimBlocklist(u)  set   the users account u blocked
//
// The rules of the simulated WhatsApp:
//   - A number ending in 0000 is not on WhatsApp (as for sends): a check
//     says so and every other call answers contacts.ErrContactNotFound.
//   - Every other number is on WhatsApp, and its LID is LIDOf(number): the
//     digits reversed behind a 2 (15551234567 → 276543215551@lid), so that
//     PhoneOfLID turns it back without any stored mapping.
//   - The control action "contact" stands in for the phone's address book
//     and for what other users set on their profiles.

// ActionContact sets a simulated user's profile and the account's
// address-book entry for them (control action "contact").
const ActionContact = "contact"

func init() { actions[ActionContact] = act((*Session).contactControl, contactArgs{}) }

// LIDServer is the server of LIDs.
const LIDServer = "lid"

// LIDOf returns the simulated LID of a phone number (digits).
func LIDOf(phone string) string {
	r := []byte(phone)
	slices.Reverse(r)
	return "2" + string(r) + "@" + LIDServer
}

// PhoneOfLID returns the phone number (digits) of a simulated LID, ok
// false when lid is not one LIDOf returns.
func PhoneOfLID(lid string) (string, bool) {
	user, ok := strings.CutSuffix(lid, "@"+LIDServer)
	if !ok || len(user) < 2 || user[0] != '2' || strings.Trim(user, "0123456789") != "" {
		return "", false
	}
	r := []byte(user[1:])
	slices.Reverse(r)
	return string(r), true
}

// user resolves a contact (phone-number JID, LID or phone number) to its
// phone number, or contacts.ErrContactNotFound.
func contactPhone(contact string) (string, error) {
	v := strings.TrimSpace(contact)
	if strings.HasSuffix(v, "@"+LIDServer) {
		phone, ok := PhoneOfLID(v)
		if !ok {
			return "", fmt.Errorf("%w: no user has LID %s", contacts.ErrContactNotFound, v)
		}
		v = phone
	}
	jid, err := toJID(v)
	if err != nil {
		return "", err
	}
	user, server, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":")
	if server != UserServer {
		return "", fmt.Errorf("%w: %q is not a user JID or a LID", session.ErrInvalid, contact)
	}
	if notOnWhatsApp(user + "@" + UserServer) {
		return "", fmt.Errorf("%w: %s is not on WhatsApp", contacts.ErrContactNotFound, user)
	}
	return user, nil
}

// addressBook is an entry of a simulated contact store.
type addressBook struct {
	Name      string `json:"name,omitempty"`
	FirstName string `json:"first_name,omitempty"`
}

// CheckNumbers implements contacts.Checker.
func (s *Session) CheckNumbers(ctx context.Context, phones []string) ([]contacts.Check, error) {
	if _, err := s.groupSelf(); err != nil {
		return nil, fmt.Errorf("sim: check numbers: %w", err)
	}
	out := make([]contacts.Check, 0, len(phones))
	var users []string
	for _, p := range phones {
		d, ok := contacts.NormalizePhone(p)
		if !ok {
			return nil, fmt.Errorf("sim: check numbers: %w: %q is not a phone number", session.ErrInvalid, p)
		}
		c := contacts.Check{Phone: d}
		if !notOnWhatsApp(d + "@" + UserServer) {
			c.Exists, c.JID, c.LID = true, d+"@"+UserServer, LIDOf(d)
			users = append(users, c.JID)
		}
		out = append(out, c)
	}
	profiles, err := s.profiles(ctx, users)
	if err != nil {
		return nil, fmt.Errorf("sim: check numbers: %w", err)
	}
	for i := range out {
		out[i].VerifiedName = profiles[out[i].JID]["verified_name"]
	}
	return out, nil
}

// profiles reads the public profiles of users.
func (s *Session) profiles(ctx context.Context, users []string) (map[string]map[string]string, error) {
	cmds := make([]*redis.MapStringStringCmd, len(users))
	if len(users) > 0 {
		if _, err := s.d.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range users {
				cmds[i] = p.HGetAll(ctx, s.d.cfg.Keys.SimUser(u))
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	out := make(map[string]map[string]string, len(users))
	for i, u := range users {
		out[u] = cmds[i].Val()
	}
	return out, nil
}

func contactOf(phone string, book addressBook, profile map[string]string) contacts.Contact {
	return contacts.Contact{
		JID: phone + "@" + UserServer, Phone: phone, LID: LIDOf(phone),
		Name: book.Name, FirstName: book.FirstName,
		PushName: profile["push_name"], BusinessName: profile["business_name"],
	}
}

// Contacts implements contacts.Directory: the account's contact store.
func (s *Session) Contacts(ctx context.Context) ([]contacts.Contact, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, fmt.Errorf("sim: contacts: %w", err)
	}
	book, err := s.d.cfg.Redis.HGetAll(ctx, s.d.cfg.Keys.SimContacts(self)).Result()
	if err != nil {
		return nil, fmt.Errorf("sim: contacts: %w", err)
	}
	users := slices.Sorted(func(yield func(string) bool) {
		for u := range book {
			if !yield(u) {
				return
			}
		}
	})
	profiles, err := s.profiles(ctx, users)
	if err != nil {
		return nil, fmt.Errorf("sim: contacts: %w", err)
	}
	out := make([]contacts.Contact, 0, len(users))
	for _, u := range users {
		var b addressBook
		_ = json.Unmarshal([]byte(book[u]), &b) // written by contactControl
		out = append(out, contactOf(strings.TrimSuffix(u, "@"+UserServer), b, profiles[u]))
	}
	return out, nil
}

// ContactInfo implements contacts.Directory.
func (s *Session) ContactInfo(ctx context.Context, contact string) (contacts.Contact, error) {
	self, err := s.groupSelf()
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("sim: contact info: %w", err)
	}
	phone, err := contactPhone(contact)
	if err != nil {
		return contacts.Contact{}, fmt.Errorf("sim: contact info: %w", err)
	}
	jid := phone + "@" + UserServer
	var (
		book    *redis.StringCmd
		profile *redis.MapStringStringCmd
	)
	if _, err := s.d.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		book = p.HGet(ctx, s.d.cfg.Keys.SimContacts(self), jid)
		profile = p.HGetAll(ctx, s.d.cfg.Keys.SimUser(jid))
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return contacts.Contact{}, fmt.Errorf("sim: contact info: %w", err)
	}
	var b addressBook
	_ = json.Unmarshal([]byte(book.Val()), &b)
	pr := profile.Val()
	c := contactOf(phone, b, pr)
	c.VerifiedName = pr["verified_name"]
	if about, ok := pr["about"]; ok {
		c.About = &about
	}
	if pr["picture_hidden"] == "" {
		c.PictureID = pr["picture_id"]
	}
	return c, nil
}

// ContactPicture implements contacts.Directory.
func (s *Session) ContactPicture(ctx context.Context, contact string, preview bool) (contacts.Picture, error) {
	if _, err := s.groupSelf(); err != nil {
		return contacts.Picture{}, fmt.Errorf("sim: contact picture: %w", err)
	}
	phone, err := contactPhone(contact)
	if err != nil {
		return contacts.Picture{}, fmt.Errorf("sim: contact picture: %w", err)
	}
	jid := phone + "@" + UserServer
	pr, err := s.d.cfg.Redis.HGetAll(ctx, s.d.cfg.Keys.SimUser(jid)).Result()
	switch {
	case err != nil:
		return contacts.Picture{}, fmt.Errorf("sim: contact picture: %w", err)
	case pr["picture_hidden"] != "":
		return contacts.Picture{}, fmt.Errorf("sim: contact picture of %s: %w", jid, contacts.ErrPictureHidden)
	case pr["picture_id"] == "":
		return contacts.Picture{}, fmt.Errorf("sim: contact picture of %s: %w", jid, contacts.ErrPictureNotFound)
	}
	return pictureOf(jid, pr["picture_id"], preview), nil
}

// pictureOf is a picture as WhatsApp's CDN would serve it; the simulator
// serves no files, so the URL names the picture without reaching one.
func pictureOf(jid, id string, preview bool) contacts.Picture {
	typ := "image"
	if preview {
		typ = "preview"
	}
	return contacts.Picture{JID: jid, ID: id, Type: typ,
		URL: "https://pps.whatsapp.net/sim/" + strings.TrimSuffix(jid, "@"+UserServer) + "/" + id + "?type=" + typ}
}

// Profile implements contacts.Profiler.
func (s *Session) Profile(ctx context.Context) (contacts.Profile, error) {
	self, err := s.groupSelf()
	if err != nil {
		return contacts.Profile{}, fmt.Errorf("sim: profile: %w", err)
	}
	pr, err := s.d.cfg.Redis.HGetAll(ctx, s.d.cfg.Keys.SimUser(self)).Result()
	if err != nil {
		return contacts.Profile{}, fmt.Errorf("sim: profile: %w", err)
	}
	phone := strings.TrimSuffix(self, "@"+UserServer)
	p := contacts.Profile{JID: self, Phone: phone, LID: LIDOf(phone), PushName: pr["push_name"], About: pr["about"], PictureID: pr["picture_id"]}
	if _, set := pr["push_name"]; !set {
		// Until changed, the push name is the one the phone had when it linked.
		s.mu.Lock()
		jid := s.jid
		s.mu.Unlock()
		dev, err := s.d.cfg.Store.SimDevice(ctx, jid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return contacts.Profile{}, fmt.Errorf("sim: profile: %w", err)
		}
		if dev != nil {
			p.PushName = dev.PushName
		}
	}
	return p, nil
}

// SetProfile implements contacts.Profiler.
func (s *Session) SetProfile(ctx context.Context, u contacts.ProfileUpdate) (contacts.Profile, error) {
	self, err := s.groupSelf()
	if err != nil {
		return contacts.Profile{}, fmt.Errorf("sim: set profile: %w", err)
	}
	set := map[string]any{}
	if u.PushName != nil {
		if n := utf8.RuneCountInString(*u.PushName); n == 0 || n > contacts.MaxPushName {
			return contacts.Profile{}, fmt.Errorf("sim: set profile: %w: a push name has 1 to %d characters", session.ErrInvalid, contacts.MaxPushName)
		}
		set["push_name"] = *u.PushName
	}
	if u.About != nil {
		if utf8.RuneCountInString(*u.About) > contacts.MaxAbout {
			return contacts.Profile{}, fmt.Errorf("sim: set profile: %w: about has at most %d characters", session.ErrInvalid, contacts.MaxAbout)
		}
		set["about"] = *u.About
	}
	if len(set) > 0 {
		if err := s.d.cfg.Redis.HSet(ctx, s.d.cfg.Keys.SimUser(self), set).Err(); err != nil {
			return contacts.Profile{}, fmt.Errorf("sim: set profile: %w", err)
		}
	}
	return s.Profile(ctx)
}

// SetProfilePicture implements contacts.Profiler. Like WhatsApp, the
// simulated server refuses anything but a JPEG.
func (s *Session) SetProfilePicture(ctx context.Context, jpeg []byte) (string, error) {
	self, err := s.groupSelf()
	if err != nil {
		return "", fmt.Errorf("sim: set profile picture: %w", err)
	}
	if !bytes.HasPrefix(jpeg, []byte{0xFF, 0xD8, 0xFF}) {
		return "", fmt.Errorf("sim: set profile picture: %w: not a JPEG", contacts.ErrInvalidImage)
	}
	id := strconv.FormatInt(s.d.cfg.Now().Unix(), 10) + strconv.FormatInt(randomInt(1000), 10)
	if err := s.d.cfg.Redis.HSet(ctx, s.d.cfg.Keys.SimUser(self), "picture_id", id).Err(); err != nil {
		return "", fmt.Errorf("sim: set profile picture: %w", err)
	}
	return id, nil
}

// Blocklist implements blocklist.Blocker.
func (s *Session) Blocklist(ctx context.Context) ([]blocklist.Entry, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, fmt.Errorf("sim: blocklist: %w", err)
	}
	return s.blocklist(ctx, self)
}

func (s *Session) blocklist(ctx context.Context, self string) ([]blocklist.Entry, error) {
	users, err := s.d.cfg.Redis.SMembers(ctx, s.d.cfg.Keys.SimBlocklist(self)).Result()
	if err != nil {
		return nil, fmt.Errorf("sim: blocklist: %w", err)
	}
	slices.Sort(users)
	out := make([]blocklist.Entry, 0, len(users))
	for _, u := range users {
		phone := strings.TrimSuffix(u, "@"+UserServer)
		out = append(out, blocklist.Entry{JID: u, Phone: phone, LID: LIDOf(phone)})
	}
	return out, nil
}

// SetBlocked implements blocklist.Blocker.
func (s *Session) SetBlocked(ctx context.Context, contact string, blocked bool) ([]blocklist.Entry, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, fmt.Errorf("sim: block: %w", err)
	}
	phone, err := contactPhone(contact)
	if err != nil {
		return nil, fmt.Errorf("sim: block: %w", err)
	}
	key, jid := s.d.cfg.Keys.SimBlocklist(self), phone+"@"+UserServer
	if blocked {
		err = s.d.cfg.Redis.SAdd(ctx, key, jid).Err()
	} else {
		err = s.d.cfg.Redis.SRem(ctx, key, jid).Err()
	}
	if err != nil {
		return nil, fmt.Errorf("sim: block: %w", err)
	}
	return s.blocklist(ctx, self)
}

// RejectCall implements calls.Rejecter. The simulated phone counts the
// calls rejected (PhoneState "calls_rejected") and keeps the last one's
// id ("last_call_rejected").
func (s *Session) RejectCall(ctx context.Context, from, callID string) error {
	if callID == "" {
		return fmt.Errorf("sim: reject call: %w: no call id", session.ErrInvalid)
	}
	if _, err := toJID(from); err != nil {
		return fmt.Errorf("sim: reject call: %w", err)
	}
	if !s.isConnected() {
		return fmt.Errorf("sim: reject call: %w", session.ErrNotConnected)
	}
	key := s.d.cfg.Keys.SimPhone(s.channelID)
	pipe := s.d.cfg.Redis.TxPipeline()
	pipe.HIncrBy(ctx, key, "calls_rejected", 1)
	pipe.HSet(ctx, key, "last_call_rejected", callID)
	pipe.Expire(ctx, key, 24*time.Hour)
	_, err := pipe.Exec(ctx)
	return err
}

// contactArgs are the arguments of the control action "contact". Phone
// names the user; the other members, when given, set the user's profile
// (push_name, about, business_name, verified_name, picture: a new picture,
// picture_hidden) and the account's address-book entry (name,
// first_name). The user enters the account's contact store.
type contactArgs struct {
	Phone         string  `json:"phone"`
	Name          *string `json:"name"`
	FirstName     *string `json:"first_name"`
	PushName      *string `json:"push_name"`
	About         *string `json:"about"`
	BusinessName  *string `json:"business_name"`
	VerifiedName  *string `json:"verified_name"`
	Picture       bool    `json:"picture"`
	PictureHidden *bool   `json:"picture_hidden"`
}

func (s *Session) contactControl(ctx context.Context, a contactArgs) (any, error) {
	self, err := s.groupSelf()
	if err != nil {
		return nil, err
	}
	phone, err := contactPhone(a.Phone)
	if err != nil {
		return nil, err
	}
	jid := phone + "@" + UserServer
	rdb, keys := s.d.cfg.Redis, s.d.cfg.Keys
	var b addressBook
	if raw, err := rdb.HGet(ctx, keys.SimContacts(self), jid).Result(); err == nil {
		_ = json.Unmarshal([]byte(raw), &b)
	} else if !errors.Is(err, redis.Nil) {
		return nil, err
	}
	if a.Name != nil {
		b.Name = *a.Name
	}
	if a.FirstName != nil {
		b.FirstName = *a.FirstName
	}
	profile := map[string]any{}
	for field, v := range map[string]*string{"push_name": a.PushName, "about": a.About, "business_name": a.BusinessName, "verified_name": a.VerifiedName} {
		if v != nil {
			profile[field] = *v
		}
	}
	if a.Picture {
		profile["picture_id"] = strconv.FormatInt(s.d.cfg.Now().Unix(), 10) + strconv.FormatInt(randomInt(1000), 10)
	}
	if a.PictureHidden != nil {
		profile["picture_hidden"] = map[bool]string{true: "1", false: ""}[*a.PictureHidden]
	}
	raw, _ := json.Marshal(b) // two strings
	pipe := rdb.TxPipeline()
	pipe.HSet(ctx, keys.SimContacts(self), jid, raw)
	if len(profile) > 0 {
		pipe.HSet(ctx, keys.SimUser(jid), profile)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	return contacts.Check{Phone: phone, Exists: true, JID: jid, LID: LIDOf(phone)}, nil
}
