package client

import (
	"context"
	"net/http"
	"time"
)

// Group is a WhatsApp group of the channel's account.
type Group struct {
	// ID is the group's JID (…@g.us).
	ID    string `json:"id"`
	Name  string `json:"name"`
	Topic string `json:"topic,omitempty"`
	// Owner is the JID of the group's creator, when known.
	Owner     string    `json:"owner,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// Announce: only admins may send messages.
	Announce bool `json:"announce"`
	// Locked: only admins may edit the group's info.
	Locked           bool               `json:"locked"`
	EphemeralSeconds int                `json:"ephemeral_seconds"`
	JoinApproval     bool               `json:"join_approval"`
	Participants     []GroupParticipant `json:"participants"`
}

// GroupParticipant is a member of a group.
type GroupParticipant struct {
	// JID is the user's JID, or a LID in groups that hide numbers.
	JID string `json:"jid"`
	// Phone is the phone-number JID of a participant named by a LID.
	Phone string `json:"phone,omitempty"`
	Role  string `json:"role"` // member, admin or superadmin
}

// GroupList lists groups.
type GroupList struct {
	Data []Group `json:"data"`
}

// GroupCreated is a new group and the participants WhatsApp did not add.
type GroupCreated struct {
	Group
	FailedParticipants []GroupParticipantResult `json:"failed_participants,omitempty"`
}

// CreateGroupRequest creates a group.
type CreateGroupRequest struct {
	Name string `json:"name"`
	// Participants are phone numbers or user JIDs.
	Participants []string `json:"participants"`
}

// Participant actions (GroupParticipantsRequest.Action).
const (
	ParticipantsAdd     = "add"
	ParticipantsRemove  = "remove"
	ParticipantsPromote = "promote"
	ParticipantsDemote  = "demote"
)

// GroupParticipantsRequest adds, removes, promotes or demotes participants.
type GroupParticipantsRequest struct {
	Action       string   `json:"action"`
	Participants []string `json:"participants"`
}

// GroupParticipantResult is one participant's outcome.
type GroupParticipantResult struct {
	JID    string `json:"jid"`
	Status string `json:"status"` // ok or failed
	// Code is WhatsApp's code of a failure (403, 404, …).
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// InviteCode invites a participant whose privacy refuses being added.
	InviteCode      string    `json:"invite_code,omitempty"`
	InviteExpiresAt time.Time `json:"invite_expires_at,omitzero"`
}

// GroupParticipantsChanged answers UpdateGroupParticipants.
type GroupParticipantsChanged struct {
	Group        string                   `json:"group"`
	Action       string                   `json:"action"`
	Participants []GroupParticipantResult `json:"participants"`
}

// GroupLeft answers LeaveGroup.
type GroupLeft struct {
	Group string `json:"group"`
	Left  bool   `json:"left"`
}

// ListGroups lists the groups the channel's account takes part in.
func (c *Client) ListGroups(ctx context.Context, channelID string) (*GroupList, error) {
	var out GroupList
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/groups")}, &out)
	return ret(&out, err)
}

// CreateGroup creates a group; with WithIdempotencyKey a retry answers the
// group the first request created.
func (c *Client) CreateGroup(ctx context.Context, channelID string, r CreateGroupRequest, opts ...CallOption) (*GroupCreated, error) {
	var out GroupCreated
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/groups"), body: r, opts: opts}, &out)
	return ret(&out, err)
}

// GetGroup reads a group (its JID or its number alone).
func (c *Client) GetGroup(ctx context.Context, channelID, groupID string) (*Group, error) {
	var out Group
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/groups/", groupID)}, &out)
	return ret(&out, err)
}

// UpdateGroupParticipants adds, removes, promotes or demotes participants.
func (c *Client) UpdateGroupParticipants(ctx context.Context, channelID, groupID string, r GroupParticipantsRequest) (*GroupParticipantsChanged, error) {
	var out GroupParticipantsChanged
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/groups/", groupID, "/participants"), body: r}, &out)
	return ret(&out, err)
}

// LeaveGroup makes the channel's account leave a group.
func (c *Client) LeaveGroup(ctx context.Context, channelID, groupID string) (*GroupLeft, error) {
	var out GroupLeft
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/groups/", groupID, "/leave"), body: struct{}{}}, &out)
	return ret(&out, err)
}

// GroupInvite is a group's invite link.
type GroupInvite struct {
	Group string `json:"group"`
	// Invite is the link, https://chat.whatsapp.com/ and Code.
	Invite string `json:"invite"`
	Code   string `json:"code"`
}

// JoinGroupRequest joins a group by its invite link (or code alone).
type JoinGroupRequest struct {
	Invite string `json:"invite"`
}

// Join outcomes (GroupJoined.Status).
const (
	GroupJoinJoined  = "joined"
	GroupJoinPending = "pending_approval"
)

// GroupJoined answers JoinGroup: the group, and whether the account is in
// it or waits for an admin's approval.
type GroupJoined struct {
	Group
	Status string `json:"status"`
}

// GroupUpdate changes a group's settings; nil members stay as they are.
type GroupUpdate struct {
	Name *string `json:"name,omitempty"`
	// Description is the group's description; "" removes it.
	Description *string `json:"description,omitempty"`
	// Announce: only admins may send messages.
	Announce *bool `json:"announce,omitempty"`
	// Locked: only admins may edit the group's info.
	Locked *bool `json:"locked,omitempty"`
}

// GroupPictureSet answers SetGroupPicture.
type GroupPictureSet struct {
	Group     string `json:"group"`
	PictureID string `json:"picture_id"`
}

// GroupPictureRemoved answers DeleteGroupPicture.
type GroupPictureRemoved struct {
	Group   string `json:"group"`
	Removed bool   `json:"removed"`
}

// GetGroupInvite reads a group's invite link (admins only).
func (c *Client) GetGroupInvite(ctx context.Context, channelID, groupID string) (*GroupInvite, error) {
	var out GroupInvite
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/groups/", groupID, "/invite")}, &out)
	return ret(&out, err)
}

// ResetGroupInvite revokes a group's invite link and returns the new one.
func (c *Client) ResetGroupInvite(ctx context.Context, channelID, groupID string) (*GroupInvite, error) {
	var out GroupInvite
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/groups/", groupID, "/invite/reset"), body: struct{}{}}, &out)
	return ret(&out, err)
}

// JoinGroup joins the group of an invite link.
func (c *Client) JoinGroup(ctx context.Context, channelID string, r JoinGroupRequest) (*GroupJoined, error) {
	var out GroupJoined
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/groups/join"), body: r}, &out)
	return ret(&out, err)
}

// UpdateGroup changes a group's name, description or settings.
func (c *Client) UpdateGroup(ctx context.Context, channelID, groupID string, u GroupUpdate) (*Group, error) {
	var out Group
	_, err := c.do(ctx, request{method: http.MethodPatch, path: path("/v1/channels/", channelID, "/groups/", groupID), body: u}, &out)
	return ret(&out, err)
}

// SetGroupPicture sets a group's picture from a JPEG (at most 512 KiB).
func (c *Client) SetGroupPicture(ctx context.Context, channelID, groupID string, jpeg []byte) (*GroupPictureSet, error) {
	var out GroupPictureSet
	_, err := c.do(ctx, request{method: http.MethodPut, path: path("/v1/channels/", channelID, "/groups/", groupID, "/picture"), raw: jpeg, ctype: "image/jpeg"}, &out)
	return ret(&out, err)
}

// DeleteGroupPicture removes a group's picture.
func (c *Client) DeleteGroupPicture(ctx context.Context, channelID, groupID string) (*GroupPictureRemoved, error) {
	var out GroupPictureRemoved
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path("/v1/channels/", channelID, "/groups/", groupID, "/picture")}, &out)
	return ret(&out, err)
}
