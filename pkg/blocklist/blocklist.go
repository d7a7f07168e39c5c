package blocklist

import (
	"context"
	"encoding/json"

	"github.com/wagate/wagate/pkg/contacts"
	"github.com/wagate/wagate/pkg/groups"
)

// Entry is a blocked user.
type Entry struct {
	// JID is the phone-number JID when known, else the LID.
	JID   string `json:"jid"`
	Phone string `json:"phone,omitempty"`
	LID   string `json:"lid,omitempty"`
}

// Blocker is the capability of a session that manages its blocklist.
// contact is a phone-number JID or a LID.
type Blocker interface {
	Blocklist(ctx context.Context) ([]Entry, error)
	SetBlocked(ctx context.Context, contact string, blocked bool) ([]Entry, error)
}

// Methods: the last tokens of wa.rpc.<shard>.<channel>.<method>.
const (
	MethodGet = "blocklist.get"
	MethodSet = "blocklist.set"
)

// Params is the request body of MethodSet.
type Params struct {
	Contact string `json:"contact"`
	Blocked bool   `json:"blocked"`
}

// Changed is the answer to MethodSet.
type Changed struct {
	Contact string  `json:"contact"`
	Blocked bool    `json:"blocked"`
	Data    []Entry `json:"data"`
}

// Methods are the request methods of the package, run by the worker.
var Methods = map[string]groups.Handler{
	MethodGet: func(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
		b, ok := sess.(Blocker)
		if !ok {
			return nil, errUnsupported
		}
		var none struct{}
		if err := groups.DecodeParams(raw, &none); err != nil {
			return nil, err
		}
		list, err := b.Blocklist(ctx)
		if err != nil {
			return nil, contacts.ErrorOf(err)
		}
		return orEmpty(list), nil
	},
	MethodSet: func(ctx context.Context, sess any, raw json.RawMessage) (any, error) {
		b, ok := sess.(Blocker)
		if !ok {
			return nil, errUnsupported
		}
		var p Params
		if err := groups.DecodeParams(raw, &p); err != nil {
			return nil, err
		}
		if p.Contact == "" {
			return nil, groups.Errorf(groups.CodeInvalidRequest, "contact is required")
		}
		list, err := b.SetBlocked(ctx, p.Contact, p.Blocked)
		if err != nil {
			return nil, contacts.ErrorOf(err)
		}
		return Changed{Contact: p.Contact, Blocked: p.Blocked, Data: orEmpty(list)}, nil
	},
}

var errUnsupported = groups.Errorf(groups.CodeNotSupported, "the channel's driver does not support the blocklist")

func orEmpty(l []Entry) []Entry {
	if l == nil {
		return []Entry{}
	}
	return l
}
