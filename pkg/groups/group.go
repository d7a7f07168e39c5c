package groups

import (
	"errors"
	"time"
)

// Group is a WhatsApp group as the channel's account sees it.
type Group struct {
	// ID is the group's JID ("120363012345678901@g.us").
	ID    string `json:"id"`
	Name  string `json:"name"`
	Topic string `json:"topic,omitempty"`
	// Owner is the JID of the account that created the group, when known.
	Owner     string     `json:"owner,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	// Announce: only admins may send messages. Locked: only admins may
	// edit the group's name, topic and picture.
	Announce bool `json:"announce"`
	Locked   bool `json:"locked"`
	// EphemeralSeconds is the disappearing-messages timer (0: off).
	EphemeralSeconds uint32 `json:"ephemeral_seconds"`
	// JoinApproval: new members need an admin's approval.
	JoinApproval bool          `json:"join_approval"`
	Participants []Participant `json:"participants"`
}

// Participant is a member of a group.
type Participant struct {
	// JID is how WhatsApp names the member: a phone-number JID
	// (…@s.whatsapp.net) or, in groups that hide numbers, a LID (…@lid).
	JID string `json:"jid"`
	// Phone is the member's phone-number JID when JID is a LID and the
	// number is known.
	Phone string `json:"phone,omitempty"`
	// Role is member, admin or superadmin (the group's creator).
	Role string `json:"role"`
}

// Roles of a participant.
const (
	RoleMember     = "member"
	RoleAdmin      = "admin"
	RoleSuperAdmin = "superadmin"
)

// Created is the answer to a group creation: the group, and the
// participants WhatsApp did not add (for example because their privacy
// settings allow only an invitation).
type Created struct {
	Group
	Failed []ParticipantResult `json:"failed_participants,omitempty"`
}

// Changed is the answer to a change of participants: the outcome for
// each participant, in the order of the request.
type Changed struct {
	Group        string              `json:"group"`
	Action       string              `json:"action"`
	Participants []ParticipantResult `json:"participants"`
}

// Left is the answer to leaving a group.
type Left struct {
	Group string `json:"group"`
	Left  bool   `json:"left"`
}

// ParticipantResult is the outcome of a change of one participant.
type ParticipantResult struct {
	JID string `json:"jid"`
	// Status is "ok" or "failed".
	Status string `json:"status"`
	// Code is WhatsApp's code for a failure (403, 404, 408, 409, …) and
	// Reason its meaning (see the Reason constants).
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// InviteCode is set when the participant's privacy settings refuse
	// being added: WhatsApp allows inviting them with this code instead,
	// until InviteExpiresAt.
	InviteCode      string     `json:"invite_code,omitempty"`
	InviteExpiresAt *time.Time `json:"invite_expires_at,omitempty"`
}

// Statuses of a ParticipantResult.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Reasons of a failed ParticipantResult, by WhatsApp's code.
const (
	ReasonNotAuthorized      = "not_authorized"      // 401, 403 without invitation
	ReasonInviteRequired     = "invite_required"     // 403: privacy settings; invite instead
	ReasonNotFound           = "not_found"           // 404: not a participant, or not on WhatsApp
	ReasonRecentlyLeft       = "recently_left"       // 408: left recently; cannot be re-added yet
	ReasonAlreadyParticipant = "already_participant" // 409
	ReasonGroupFull          = "group_full"          // 500 when adding
	ReasonUnknown            = "unknown"
)

// FailureReason names WhatsApp's code for a refused participant.
func FailureReason(code int, invite bool) string {
	switch code {
	case 401:
		return ReasonNotAuthorized
	case 403:
		if invite {
			return ReasonInviteRequired
		}
		return ReasonNotAuthorized
	case 404:
		return ReasonNotFound
	case 408:
		return ReasonRecentlyLeft
	case 409:
		return ReasonAlreadyParticipant
	case 500:
		return ReasonGroupFull
	}
	return ReasonUnknown
}

// Actions on participants.
const (
	ActionAdd     = "add"
	ActionRemove  = "remove"
	ActionPromote = "promote"
	ActionDemote  = "demote"
)

// Actions lists the participant actions.
var Actions = []string{ActionAdd, ActionRemove, ActionPromote, ActionDemote}

// Limits of requests, checked by the API before a request reaches a
// worker. WhatsApp's own limit of a group's size is about 1024.
const (
	MaxNameLength   = 100
	MaxParticipants = 256
	// MaxTopicLength is WhatsApp's limit of a group's description.
	MaxTopicLength = 2048
	// MaxPicture bounds a group picture (JPEG; WhatsApp shows 640×640).
	MaxPicture = 512 << 10
)

// Sentinel errors of the group capability, beyond session's (ErrInvalid,
// ErrNotConnected, ErrNotPaired, ErrUnsupported). Drivers wrap them.
var (
	// ErrGroupNotFound: no such group.
	ErrGroupNotFound = errors.New("groups: group not found")
	// ErrNotParticipant: the account does not take part in the group.
	ErrNotParticipant = errors.New("groups: not a participant of the group")
	// ErrNotAdmin: the change needs the account to be a group admin.
	ErrNotAdmin = errors.New("groups: not an admin of the group")
	// ErrRateLimited: WhatsApp refused the request for its rate; retry later.
	ErrRateLimited = errors.New("groups: rate limited by WhatsApp")
	// ErrInviteInvalid: no group has this invite code.
	ErrInviteInvalid = errors.New("groups: invite link not valid")
	// ErrInviteRevoked: the invite code was valid once; an admin reset it.
	ErrInviteRevoked = errors.New("groups: invite link revoked")
	// ErrJoinRefused: WhatsApp refused joining the group by its link (for
	// example right after an admin removed the account).
	ErrJoinRefused = errors.New("groups: joining the group refused")
	// ErrInvalidImage: WhatsApp refused the picture (not a JPEG).
	ErrInvalidImage = errors.New("groups: invalid image")
)
