package groups

import (
	"regexp"
	"strings"
)

// InviteLinkPrefix starts every group invite link; the code follows it.
const InviteLinkPrefix = "https://chat.whatsapp.com/"

// Invite is a group's invite link: whoever has it may join the group.
type Invite struct {
	Group string `json:"group"`
	// Invite is the link, InviteLinkPrefix followed by Code.
	Invite string `json:"invite"`
	Code   string `json:"code"`
}

// InviteOf returns the Invite of group with code.
func InviteOf(group, code string) Invite {
	return Invite{Group: group, Invite: InviteLinkPrefix + code, Code: code}
}

var inviteCodeRE = regexp.MustCompile(`^[A-Za-z0-9]{8,64}$`)

// ParseInvite returns the code of an invite link, given as the link
// ("https://chat.whatsapp.com/<code>", with or without its scheme) or as
// the code alone; false when it is neither.
func ParseInvite(v string) (string, bool) {
	v = strings.TrimSpace(v)
	for _, p := range []string{InviteLinkPrefix, "http://chat.whatsapp.com/", "chat.whatsapp.com/"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			v = strings.TrimSuffix(rest, "/")
			break
		}
	}
	if !inviteCodeRE.MatchString(v) {
		return "", false
	}
	return v, true
}

// Join statuses (Joined.Status).
const (
	// JoinJoined: the account takes part in the group now.
	JoinJoined = "joined"
	// JoinPending: the group needs an admin's approval of new members;
	// the account asked to join and waits for it.
	JoinPending = "pending_approval"
)

// Joined is the answer to joining a group by its invite link: the group
// (as the link described it when the join waits for approval) and the
// outcome.
type Joined struct {
	Group
	Status string `json:"status"`
}

// Update is a change of a group's settings; nil members stay as they are.
type Update struct {
	// Name is the group's name (subject): 1 to MaxNameLength characters.
	Name *string `json:"name,omitempty"`
	// Description is the group's description (topic), at most
	// MaxTopicLength characters; "" removes it.
	Description *string `json:"description,omitempty"`
	// Announce: only admins may send messages.
	Announce *bool `json:"announce,omitempty"`
	// Locked: only admins may edit the group's name, description and
	// picture.
	Locked *bool `json:"locked,omitempty"`
}

// Empty reports whether u changes nothing.
func (u Update) Empty() bool {
	return u.Name == nil && u.Description == nil && u.Announce == nil && u.Locked == nil
}

// NeedsAdmin reports whether a participant who is no admin may not make
// the change: settings always need an admin, the name and description
// only in a locked group.
func (u Update) NeedsAdmin(locked bool) bool {
	return u.Announce != nil || u.Locked != nil || (locked && (u.Name != nil || u.Description != nil))
}

// Against keeps the members of u that would change g: a setting that has
// the value asked for already is left alone (and reported by no event).
func (u Update) Against(g Group) Update {
	if u.Name != nil && strings.TrimSpace(*u.Name) == g.Name {
		u.Name = nil
	}
	if u.Description != nil && *u.Description == g.Topic {
		u.Description = nil
	}
	if u.Announce != nil && *u.Announce == g.Announce {
		u.Announce = nil
	}
	if u.Locked != nil && *u.Locked == g.Locked {
		u.Locked = nil
	}
	return u
}

// PictureSet is the answer to a new group picture.
type PictureSet struct {
	Group     string `json:"group"`
	PictureID string `json:"picture_id"`
}

// PictureRemoved is the answer to removing a group's picture.
type PictureRemoved struct {
	Group   string `json:"group"`
	Removed bool   `json:"removed"`
}
