package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// NumberCheckRequest asks whether numbers are on WhatsApp (1 to 500).
type NumberCheckRequest struct {
	Phones []string `json:"phones"`
}

// NumberCheck is one number's answer.
type NumberCheck struct {
	// Phone is the number asked, digits only.
	Phone        string `json:"phone"`
	Exists       bool   `json:"exists"`
	JID          string `json:"jid,omitempty"`
	LID          string `json:"lid,omitempty"`
	VerifiedName string `json:"verified_name,omitempty"`
}

// NumberCheckList answers CheckNumbers.
type NumberCheckList struct {
	Data []NumberCheck `json:"data"`
}

// Contact is a user the device knows.
type Contact struct {
	// JID is the phone-number JID when known, else the LID.
	JID          string `json:"jid"`
	Phone        string `json:"phone,omitempty"`
	LID          string `json:"lid,omitempty"`
	Name         string `json:"name,omitempty"`
	FirstName    string `json:"first_name,omitempty"`
	PushName     string `json:"push_name,omitempty"`
	BusinessName string `json:"business_name,omitempty"`
	About        string `json:"about,omitempty"`
	VerifiedName string `json:"verified_name,omitempty"`
	PictureID    string `json:"picture_id,omitempty"`
}

// ContactList lists contacts.
type ContactList struct {
	Data []Contact `json:"data"`
}

// ProfilePicture is a user's profile picture.
type ProfilePicture struct {
	JID string `json:"jid"`
	// ID changes with the picture.
	ID string `json:"id"`
	// URL is on WhatsApp's CDN, valid for a limited time.
	URL  string `json:"url,omitempty"`
	Type string `json:"type"` // image or preview
}

// Profile is the channel's own profile.
type Profile struct {
	JID       string `json:"jid"`
	Phone     string `json:"phone,omitempty"`
	LID       string `json:"lid,omitempty"`
	PushName  string `json:"push_name"`
	About     string `json:"about"`
	PictureID string `json:"picture_id,omitempty"`
}

// ProfilePatch changes the own push name or about text (at least one).
type ProfilePatch struct {
	PushName *string `json:"push_name,omitempty"`
	About    *string `json:"about,omitempty"`
}

// ProfilePictureSet answers SetProfilePicture.
type ProfilePictureSet struct {
	PictureID string `json:"picture_id"`
}

// CallRejectRequest rejects a call; From defaults to the caller of the
// call.received with this id.
type CallRejectRequest struct {
	From string `json:"from,omitempty"`
}

// CallRejected answers RejectCall.
type CallRejected struct {
	ID             string    `json:"id"`
	From           string    `json:"from"`
	FromLID        string    `json:"from_lid,omitempty"` // the caller's LID when WhatsApp named the caller by LID
	By             string    `json:"by"`                 // api or auto
	ReplyMessageID string    `json:"reply_message_id,omitempty"`
	Timestamp      time.Time `json:"timestamp"`
}

// BlocklistEntry is a blocked user.
type BlocklistEntry struct {
	JID   string `json:"jid"`
	Phone string `json:"phone,omitempty"`
	LID   string `json:"lid,omitempty"`
}

// Blocklist lists blocked users.
type Blocklist struct {
	Data []BlocklistEntry `json:"data"`
}

// BlocklistChanged answers BlockContact and UnblockContact with the
// blocklist after the change.
type BlocklistChanged struct {
	Contact string           `json:"contact"`
	Blocked bool             `json:"blocked"`
	Data    []BlocklistEntry `json:"data"`
}

// CheckNumbers asks which numbers are on WhatsApp.
func (c *Client) CheckNumbers(ctx context.Context, channelID string, r NumberCheckRequest) (*NumberCheckList, error) {
	var out NumberCheckList
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/contacts/check"), body: r}, &out)
	return ret(&out, err)
}

// ListContacts lists the device's contacts.
func (c *Client) ListContacts(ctx context.Context, channelID string) (*ContactList, error) {
	var out ContactList
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/contacts")}, &out)
	return ret(&out, err)
}

// GetContact looks a user up (phone number, JID or LID).
func (c *Client) GetContact(ctx context.Context, channelID, contact string) (*Contact, error) {
	var out Contact
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/contacts/", contact)}, &out)
	return ret(&out, err)
}

// GetContactPicture returns a user's profile picture; preview asks for
// the thumbnail.
func (c *Client) GetContactPicture(ctx context.Context, channelID, contact string, preview bool) (*ProfilePicture, error) {
	q := url.Values{}
	if preview {
		q.Set("preview", "true")
	}
	var out ProfilePicture
	_, err := c.do(ctx, request{method: http.MethodGet, path: withQuery(path("/v1/channels/", channelID, "/contacts/", contact, "/picture"), q)}, &out)
	return ret(&out, err)
}

// GetProfile reads the channel's own profile.
func (c *Client) GetProfile(ctx context.Context, channelID string) (*Profile, error) {
	var out Profile
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/profile")}, &out)
	return ret(&out, err)
}

// UpdateProfile changes the own push name or about text.
func (c *Client) UpdateProfile(ctx context.Context, channelID string, p ProfilePatch) (*Profile, error) {
	var out Profile
	_, err := c.do(ctx, request{method: http.MethodPatch, path: path("/v1/channels/", channelID, "/profile"), body: p}, &out)
	return ret(&out, err)
}

// SetProfilePicture sets the own profile picture from a JPEG (at most
// 512 KiB).
func (c *Client) SetProfilePicture(ctx context.Context, channelID string, jpeg []byte) (*ProfilePictureSet, error) {
	var out ProfilePictureSet
	_, err := c.do(ctx, request{method: http.MethodPut, path: path("/v1/channels/", channelID, "/profile/picture"), raw: jpeg, ctype: "image/jpeg"}, &out)
	return ret(&out, err)
}

// RejectCall rejects a ringing call.
func (c *Client) RejectCall(ctx context.Context, channelID, callID string, r CallRejectRequest) (*CallRejected, error) {
	var out CallRejected
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("/v1/channels/", channelID, "/calls/", callID, "/reject"), body: r}, &out)
	return ret(&out, err)
}

// GetBlocklist reads the blocklist.
func (c *Client) GetBlocklist(ctx context.Context, channelID string) (*Blocklist, error) {
	var out Blocklist
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("/v1/channels/", channelID, "/blocklist")}, &out)
	return ret(&out, err)
}

// BlockContact blocks a user.
func (c *Client) BlockContact(ctx context.Context, channelID, contact string) (*BlocklistChanged, error) {
	var out BlocklistChanged
	_, err := c.do(ctx, request{method: http.MethodPut, path: path("/v1/channels/", channelID, "/blocklist/", contact)}, &out)
	return ret(&out, err)
}

// UnblockContact unblocks a user.
func (c *Client) UnblockContact(ctx context.Context, channelID, contact string) (*BlocklistChanged, error) {
	var out BlocklistChanged
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path("/v1/channels/", channelID, "/blocklist/", contact)}, &out)
	return ret(&out, err)
}
