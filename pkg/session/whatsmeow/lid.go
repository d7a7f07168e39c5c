package whatsmeow

import (
	"context"

	"go.mau.fi/whatsmeow/types"
)

// WhatsApp addresses many chats and group members by LID (…@lid), a
// number-independent id, instead of their phone number; whatsmeow reports
// the other form next to it when the server sent it (MessageSource's
// SenderAlt and RecipientAlt, GroupInfo's SenderPN, a call's
// CallCreatorAlt) and keeps a LID ↔ phone-number map in its store, filled
// as it learns pairs. After an account's LID migration whatsmeow even
// sends to a phone number under its LID (send.go), so replies come back
// under @lid.
//
// wagate keeps one key per conversation and per person: the phone-number
// JID whenever it is known, from the alternative address or from the store,
// else the LID. Every event that names a chat or a person also carries the
// LID WhatsApp used (chat_lid, from_lid, by_lid, participants_lid), so
// nothing WhatsApp said is lost and a reply to a message sent to +1555…
// lands in the chat of that send.

// pnResolver maps a LID to its phone-number JID; empty when unknown.
type pnResolver func(lid types.JID) types.JID

// address returns the key of j (its phone-number JID when j is a LID whose
// number is known, from alt or from pn, else j itself) and its LID (j, or
// alt when WhatsApp named a phone number and sent its LID along; "" when
// none is known). Device parts are dropped.
func (pn pnResolver) address(j, alt types.JID) (key, lid string) {
	if j.IsEmpty() {
		return "", ""
	}
	j = j.ToNonAD()
	if j.Server != types.HiddenUserServer {
		if j.Server == types.DefaultUserServer && alt.Server == types.HiddenUserServer {
			return j.String(), alt.ToNonAD().String()
		}
		return j.String(), ""
	}
	lid = j.String()
	if !alt.IsEmpty() && alt.Server == types.DefaultUserServer {
		return alt.ToNonAD().String(), lid
	}
	if pn != nil {
		if p := pn(j); !p.IsEmpty() {
			return p.ToNonAD().String(), lid
		}
	}
	return lid, lid
}

// addresses maps a list of JIDs; lids is nil unless one of them is a LID,
// else parallel to keys with "" for those that are not.
func (pn pnResolver) addresses(js []types.JID) (keys, lids []string) {
	if len(js) == 0 {
		return nil, nil
	}
	keys = make([]string, len(js))
	any := false
	for i, j := range js {
		var lid string
		keys[i], lid = pn.address(j, types.EmptyJID)
		if lid != "" {
			if lids == nil {
				lids = make([]string, len(js))
			}
			lids[i], any = lid, true
		}
	}
	if !any {
		lids = nil
	}
	return keys, lids
}

// storePN resolves LIDs through the device store's LID map.
func (c *conn) storePN(lid types.JID) types.JID {
	cli := c.cli.Load()
	if cli == nil || cli.Store == nil || cli.Store.LIDs == nil {
		return types.EmptyJID
	}
	ctx, cancel := context.WithTimeout(c.ctx, storeLookupTimeout)
	defer cancel()
	pn, err := cli.Store.LIDs.GetPNForLID(ctx, lid)
	if err != nil {
		c.s.log.Debug("cannot map a LID to its phone number", "err", err)
		return types.EmptyJID
	}
	return pn
}
