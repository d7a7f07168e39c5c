package contacts

import (
	"context"
	"errors"
	"net/http"
)

// Check is whether one number is on WhatsApp.
type Check struct {
	// Phone is the number asked, digits only (international form).
	Phone  string `json:"phone"`
	Exists bool   `json:"exists"`
	// JID is the number's phone-number JID and LID its LID, when it is on
	// WhatsApp (LID only when WhatsApp or the store tells it).
	JID string `json:"jid,omitempty"`
	LID string `json:"lid,omitempty"`
	// VerifiedName is the verified business name of a business account.
	VerifiedName string `json:"verified_name,omitempty"`
}

// Contact is a WhatsApp user as the account knows it.
type Contact struct {
	// JID is the contact's phone-number JID when known, else its LID.
	JID string `json:"jid"`
	// Phone is the number (digits) and LID the LID, where known.
	Phone string `json:"phone,omitempty"`
	LID   string `json:"lid,omitempty"`
	// Name and FirstName are the names in the phone's address book;
	// PushName is the name the contact set for themselves; BusinessName
	// the name of a business account.
	Name         string `json:"name,omitempty"`
	FirstName    string `json:"first_name,omitempty"`
	PushName     string `json:"push_name,omitempty"`
	BusinessName string `json:"business_name,omitempty"`
	// About, VerifiedName and PictureID come from WhatsApp (contact info
	// only, not the list). About is null when hidden or unknown.
	About        *string `json:"about,omitempty"`
	VerifiedName string  `json:"verified_name,omitempty"`
	PictureID    string  `json:"picture_id,omitempty"`
}

// Picture is a profile picture.
type Picture struct {
	// JID is whose picture it is.
	JID string `json:"jid"`
	// ID changes with the picture; URL downloads it (WhatsApp's CDN, valid
	// for a limited time).
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
	// Type is image (full size) or preview (thumbnail).
	Type string `json:"type"`
}

// Profile is the account's own profile.
type Profile struct {
	JID       string `json:"jid"`
	Phone     string `json:"phone,omitempty"`
	LID       string `json:"lid,omitempty"`
	PushName  string `json:"push_name"`
	About     string `json:"about"`
	PictureID string `json:"picture_id,omitempty"`
}

// ProfileUpdate changes the own profile; nil members stay.
type ProfileUpdate struct {
	PushName *string `json:"push_name,omitempty"`
	About    *string `json:"about,omitempty"`
}

// Limits of requests, checked by the API and again by the drivers.
const (
	// MaxCheck is the most numbers one check takes.
	MaxCheck = 500
	// MaxPushName and MaxAbout are WhatsApp's limits, in characters.
	MaxPushName = 25
	MaxAbout    = 139
	// MaxPicture bounds a profile picture (JPEG; WhatsApp shows 640×640).
	// It keeps a request under NATS's default 1 MB payload.
	MaxPicture = 512 << 10
)

// Capabilities of a session, detected by type assertion.
type (
	// Checker checks numbers (digits, international form).
	Checker interface {
		CheckNumbers(ctx context.Context, phones []string) ([]Check, error)
	}
	// Directory reads contacts. contact is a phone-number JID or a LID.
	Directory interface {
		Contacts(ctx context.Context) ([]Contact, error)
		ContactInfo(ctx context.Context, contact string) (Contact, error)
		ContactPicture(ctx context.Context, contact string, preview bool) (Picture, error)
	}
	// Profiler reads and changes the account's own profile.
	Profiler interface {
		Profile(ctx context.Context) (Profile, error)
		SetProfile(ctx context.Context, u ProfileUpdate) (Profile, error)
		// SetProfilePicture sets the picture (a JPEG) and returns its id.
		SetProfilePicture(ctx context.Context, jpeg []byte) (string, error)
	}
)

// Sentinel errors of the capability, beyond session's.
var (
	// ErrContactNotFound: no such WhatsApp user.
	ErrContactNotFound = errors.New("contacts: contact not found")
	// ErrPictureNotFound: the user has no profile picture.
	ErrPictureNotFound = errors.New("contacts: no profile picture")
	// ErrPictureHidden: the user hides the picture from this account.
	ErrPictureHidden = errors.New("contacts: profile picture hidden")
	// ErrInvalidImage: WhatsApp refused the picture (not a JPEG).
	ErrInvalidImage = errors.New("contacts: invalid image")
)

// Codes of the errors above.
const (
	CodeContactNotFound = "contact_not_found"
	CodePictureNotFound = "picture_not_found"
	CodePictureHidden   = "picture_hidden"
	CodeInvalidImage    = "invalid_image"
	// CodeRateLimited: the channel's number checks are over its send rate.
	CodeRateLimited = "rate_limited"
)

var statuses = map[string]int{
	CodeContactNotFound: http.StatusNotFound,
	CodePictureNotFound: http.StatusNotFound,
	CodePictureHidden:   http.StatusForbidden,
	CodeInvalidImage:    http.StatusBadRequest,
	CodeRateLimited:     http.StatusTooManyRequests,
}

// Status is the HTTP status of this package's codes (0 for others).
func Status(code string) int { return statuses[code] }
