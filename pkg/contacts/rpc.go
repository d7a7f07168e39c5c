package contacts

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wagate/wagate/pkg/groups"
)

// Methods: the last tokens of wa.rpc.<shard>.<channel>.<method>.
const (
	MethodCheck          = "contact.check"
	MethodList           = "contact.list"
	MethodInfo           = "contact.info"
	MethodPicture        = "contact.picture"
	MethodProfile        = "profile.get"
	MethodSetProfile     = "profile.set"
	MethodProfilePicture = "profile.picture"
)

// Params is the request body of every method; members a method does not
// use are omitted.
type Params struct {
	// Phones to check (check): digits, international form.
	Phones []string `json:"phones,omitempty"`
	// Contact is a phone-number JID or a LID (info, picture).
	Contact string `json:"contact,omitempty"`
	// Preview asks for the thumbnail (picture).
	Preview bool `json:"preview,omitempty"`
	// Update is the change of the own profile (profile.set).
	Update *ProfileUpdate `json:"update,omitempty"`
	// JPEG is the new own picture (profile.picture).
	JPEG []byte `json:"jpeg,omitempty"`
}

// PictureSet is the answer to profile.picture.
type PictureSet struct {
	PictureID string `json:"picture_id"`
}

// Methods are the request methods of the package, run by the worker in
// the channel's mailbox on its active session.
var Methods = map[string]groups.Handler{
	MethodCheck: method(func(ctx context.Context, c Checker, p Params) (any, error) {
		if len(p.Phones) == 0 || len(p.Phones) > MaxCheck {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "phones needs 1 to %d numbers", MaxCheck)
		}
		return c.CheckNumbers(ctx, p.Phones)
	}),
	MethodList: method(func(ctx context.Context, d Directory, _ Params) (any, error) {
		list, err := d.Contacts(ctx)
		if list == nil {
			list = []Contact{}
		}
		return list, err
	}),
	MethodInfo: method(func(ctx context.Context, d Directory, p Params) (any, error) {
		if p.Contact == "" {
			return nil, errNoContact
		}
		return d.ContactInfo(ctx, p.Contact)
	}),
	MethodPicture: method(func(ctx context.Context, d Directory, p Params) (any, error) {
		if p.Contact == "" {
			return nil, errNoContact
		}
		return d.ContactPicture(ctx, p.Contact, p.Preview)
	}),
	MethodProfile: method(func(ctx context.Context, pr Profiler, _ Params) (any, error) {
		return pr.Profile(ctx)
	}),
	MethodSetProfile: method(func(ctx context.Context, pr Profiler, p Params) (any, error) {
		if p.Update == nil || (p.Update.PushName == nil && p.Update.About == nil) {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "nothing to change: give push_name or about")
		}
		return pr.SetProfile(ctx, *p.Update)
	}),
	MethodProfilePicture: method(func(ctx context.Context, pr Profiler, p Params) (any, error) {
		if len(p.JPEG) == 0 || len(p.JPEG) > MaxPicture {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "the picture needs 1 byte to %d bytes", MaxPicture)
		}
		id, err := pr.SetProfilePicture(ctx, p.JPEG)
		return PictureSet{PictureID: id}, err
	}),
}

var errNoContact = groups.Errorf(groups.CodeInvalidRequest, "contact is required")

// method adapts a function of a capability C to a groups.Handler: it
// decodes the parameters, detects C on the session, and maps the
// capability's errors to their codes.
func method[C any](do func(context.Context, C, Params) (any, error)) groups.Handler {
	return func(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
		c, ok := sess.(C)
		if !ok {
			return nil, groups.Errorf(groups.CodeNotSupported, "the channel's driver does not support this")
		}
		var p Params
		if err := groups.DecodeParams(raw, &p); err != nil {
			return nil, err
		}
		res, err := do(ctx, c, p)
		if err != nil {
			return nil, ErrorOf(err)
		}
		return res, nil
	}
}

// ErrorOf maps the capability's sentinel errors to reply errors with
// their codes; other errors are returned as they are (groups.ErrorOf maps
// them).
func ErrorOf(err error) error {
	for sentinel, code := range map[error]string{
		ErrContactNotFound: CodeContactNotFound,
		ErrPictureNotFound: CodePictureNotFound,
		ErrPictureHidden:   CodePictureHidden,
		ErrInvalidImage:    CodeInvalidImage,
	} {
		if errors.Is(err, sentinel) {
			return groups.Errorf(code, "%v", err)
		}
	}
	return err
}
