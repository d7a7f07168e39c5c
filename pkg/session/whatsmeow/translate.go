package whatsmeow

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	wa "go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/wagate/wagate/pkg/event"
	"github.com/wagate/wagate/pkg/session"
	"github.com/wagate/wagate/pkg/state"
)

// Reasons this driver reports beyond those of pkg/state.
const (
	// ReasonPrimaryDeviceGone: the phone was logged out or replaced, which
	// unlinks its companions (connect failure 403).
	ReasonPrimaryDeviceGone = "primary_device_logged_out"
	// ReasonLoggedOutByWhatsApp: WhatsApp unlinked the device without a
	// stated reason (connect failure 406, "banned" in WhatsApp Web).
	ReasonLoggedOutByWhatsApp = "logged_out_by_whatsapp"
	// ReasonStreamError: WhatsApp closed the stream with an unknown error.
	ReasonStreamError = "stream_error"
	// ReasonKeepAliveTimeout: keep-alives failed for longer than
	// whatsmeow's KeepAliveMaxFailTime; the connection is presumed dead.
	ReasonKeepAliveTimeout = "keepalive_timeout"
	// ReasonCATRefreshFailed: whatsmeow could not refresh its client auth
	// token and gave the connection up; retried with backoff.
	ReasonCATRefreshFailed = "cat_refresh_failed"
	// ReasonPermanentDisconnect: another event after which whatsmeow does
	// not reconnect; retried with backoff.
	ReasonPermanentDisconnect = "permanent_disconnect"
	// ReasonStoreUnavailable: the device could not be read from Postgres.
	ReasonStoreUnavailable = "device_store_unavailable"
)

// unknownBanDuration is how long a temporary ban without a stated expiry
// is assumed to last, so that the worker retries later and not at once.
const unknownBanDuration = time.Hour

// translate turns one whatsmeow event into the session events it means;
// nil for events wagate does not report (history sync, app state, keys)
// and for those the session handles itself (QR, ManualLoginReconnect).
// It is pure, so every case is tested by building the event structs.
func translate(evt any, now time.Time) []session.Event { return translateWith(evt, now, nil) }

// storeLookupTimeout bounds one lookup in whatsmeow's store while
// translating.
const storeLookupTimeout = 5 * time.Second

// translateWith is translate with pn mapping LIDs to phone numbers (see
// lid.go); nil knows only what the events carry.
func translateWith(evt any, now time.Time, pn pnResolver) []session.Event {
	switch e := evt.(type) {
	case *events.PairSuccess:
		return one(session.PairSuccess{JID: e.ID.String(), Phone: e.ID.User, BusinessName: e.BusinessName, Platform: e.Platform})
	case *events.PairError:
		reason := "pairing failed"
		if e.Error != nil {
			reason = e.Error.Error()
		}
		return one(session.PairError{Reason: reason})
	case *events.Connected:
		return one(session.Connected{})
	case *events.Disconnected:
		return one(session.Disconnected{Reason: state.ReasonRemoteClosed})
	case *events.LoggedOut:
		return one(session.LoggedOut{Reason: loggedOutReason(e)})
	case *events.StreamReplaced:
		return one(session.StreamReplaced{})
	case *events.TemporaryBan:
		d := e.Expire
		if d <= 0 {
			d = unknownBanDuration
		}
		return one(session.TemporaryBan{Code: strconv.Itoa(int(e.Code)), Until: now.Add(d)})
	case *events.ConnectFailure:
		msg := e.Reason.String()
		if e.Message != "" {
			msg += ": " + e.Message
		}
		return one(session.ConnectFailure{
			Reason:    "connect_failure_" + e.Reason.NumberString(),
			Message:   msg,
			Retryable: e.Reason >= 500,
		})
	case *events.ClientOutdated:
		return one(session.ClientOutdated{})
	case *events.CATRefreshError:
		// whatsmeow gives the connection up without a Disconnected event.
		msg := "CAT refresh failed"
		if e.Error != nil {
			msg += ": " + e.Error.Error()
		}
		return one(session.ConnectFailure{Reason: ReasonCATRefreshFailed, Message: msg, Retryable: true})
	case *events.StreamError:
		return one(session.Disconnected{Reason: ReasonStreamError})
	case *events.KeepAliveTimeout:
		ka := session.KeepAlive{OK: false, ErrorCount: e.ErrorCount, LastSuccess: e.LastSuccess}
		if now.Sub(e.LastSuccess) > wa.KeepAliveMaxFailTime {
			// whatsmeow gives up on such a connection only when it
			// reconnects by itself; ours is dropped so the worker reconnects.
			return []session.Event{ka, session.Disconnected{Reason: ReasonKeepAliveTimeout}}
		}
		return one(ka)
	case *events.KeepAliveRestored:
		return one(session.KeepAlive{OK: true, LastSuccess: now})
	case *events.Message:
		return messageEvents(e, now, pn)
	case *events.UndecryptableMessage:
		// Not message.received: the message log would keep this stand-in
		// under the message's id and drop the real message, which arrives
		// under the same id when whatsmeow's retry receipt succeeds.
		d := baseMessage(&e.Info, now, pn)
		d.Type = "undecryptable"
		d.Unavailable = e.IsUnavailable
		return one(inbound(event.MessageUndecryptable, d.Timestamp, d))
	case *events.Receipt:
		return receiptEvents(e, now, pn)
	case *events.Presence:
		d := session.PresenceData{State: string(types.PresenceAvailable), Timestamp: now}
		d.From, d.FromLID = pn.address(e.From, types.EmptyJID)
		if e.Unavailable {
			d.State = string(types.PresenceUnavailable)
		}
		if !e.LastSeen.IsZero() {
			ls := e.LastSeen.UTC()
			d.LastSeen = &ls
		}
		return one(inbound(event.PresenceUpdated, now, d))
	case *events.ChatPresence:
		st := string(e.State)
		if e.State == types.ChatPresenceComposing && e.Media == types.ChatPresenceMediaAudio {
			st = "recording"
		}
		d := session.ChatPresenceData{State: st, Timestamp: now}
		d.From, d.FromLID = pn.address(e.Sender, e.SenderAlt)
		d.Chat, d.ChatLID = pn.address(e.Chat, chatAlt(&e.MessageSource))
		return one(inbound(event.ChatPresence, now, d))
	case *events.GroupInfo:
		return groupEvents(e, now, pn)
	case *events.JoinedGroup:
		return one(joinedGroup(e, now, pn))
	case *events.Picture:
		// A group's picture is part of the group; users' pictures are
		// read on demand (contacts).
		if e.JID.Server != types.GroupServer {
			return nil
		}
		d := session.GroupData{Group: jidString(e.JID), Timestamp: orNow(e.Timestamp, now), PictureID: e.PictureID, PictureRemoved: e.Remove}
		d.By, d.ByLID = pn.address(e.Author, types.EmptyJID)
		return one(inbound(event.GroupUpdated, d.Timestamp, d))
	case *events.CallOffer:
		video := false
		if e.Data != nil {
			_, video = e.Data.GetOptionalChildByTag("video")
		}
		return one(callEvent(e.BasicCallMeta, "offer", video, "", now, pn))
	case *events.CallOfferNotice:
		return one(callEvent(e.BasicCallMeta, "offer_notice", e.Media == "video", "", now, pn))
	case *events.CallAccept:
		return one(callEvent(e.BasicCallMeta, "accept", false, "", now, pn))
	case *events.CallReject:
		return one(callEvent(e.BasicCallMeta, "reject", false, "", now, pn))
	case *events.CallTerminate:
		return one(callEvent(e.BasicCallMeta, "terminate", false, e.Reason, now, pn))
	case *events.Archive, *events.Pin, *events.Mute, *events.MarkChatAsRead:
		c, ok := chatChange(evt, pn) // chats.go
		if !ok {
			return nil
		}
		c.Timestamp = orNow(c.Timestamp, now)
		return one(inbound(event.ChatUpdated, c.Timestamp, c))
	case events.PermanentDisconnect:
		// One whatsmeow adds later: never leave the channel "active"
		// without a connection.
		return one(session.ConnectFailure{Reason: ReasonPermanentDisconnect, Message: e.PermanentDisconnectDescription(), Retryable: true})
	}
	return nil
}

func one(ev session.Event) []session.Event { return []session.Event{ev} }

// inbound wraps data into a session.Inbound of type typ.
func inbound(typ string, at time.Time, data any) session.Inbound {
	raw, err := json.Marshal(data)
	if err != nil {
		// The data types of events.go encode unless a sender put NaN in a
		// float, which finite() prevents; never drop the event for it.
		raw = []byte(`{}`)
	}
	return session.Inbound{Type: typ, Data: raw, At: at.UTC()}
}

func loggedOutReason(e *events.LoggedOut) string {
	switch {
	case !e.OnConnect, e.Reason == events.ConnectFailureLoggedOut:
		return state.ReasonLoggedOut
	case e.Reason == events.ConnectFailureMainDeviceGone:
		return ReasonPrimaryDeviceGone
	case e.Reason == events.ConnectFailureUnknownLogout:
		return ReasonLoggedOutByWhatsApp
	default:
		return "logged_out_" + e.Reason.NumberString()
	}
}

// jidString is a JID without its device part, "" when empty.
func jidString(j types.JID) string {
	if j.IsEmpty() {
		return ""
	}
	return j.ToNonAD().String()
}

// jidOrEmpty is *j, or the empty JID for nil.
func jidOrEmpty(j *types.JID) types.JID {
	if j == nil {
		return types.EmptyJID
	}
	return *j
}

// orNow is t in UTC, or now when t is unknown.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now.UTC()
	}
	return t.UTC()
}

func baseMessage(info *types.MessageInfo, now time.Time, pn pnResolver) session.MessageData {
	d := session.MessageData{
		ID:             info.ID,
		FromMe:         info.IsFromMe,
		IsGroup:        info.IsGroup,
		PushName:       info.PushName,
		Timestamp:      orNow(info.Timestamp, now),
		AddressingMode: string(info.AddressingMode),
	}
	d.Chat, d.ChatLID = pn.address(info.Chat, chatAlt(&info.MessageSource))
	d.From, d.FromLID = pn.address(info.Sender, info.SenderAlt)
	return d
}

// chatAlt is the other address of a direct chat: the sender's for what
// others sent, the recipient's for what this account sent.
func chatAlt(src *types.MessageSource) types.JID {
	switch {
	case src.IsGroup:
		return types.EmptyJID
	case src.IsFromMe:
		return src.RecipientAlt
	}
	return src.SenderAlt
}

// messageEvents translates a decrypted message: reactions, edits and
// revokes become their own events, content becomes message.received.
// Protocol traffic (history sync notices, key shares) is not reported;
// poll votes, which need the client and the message log to decrypt and
// name, are translated by the session (polls.go) before this.
func messageEvents(e *events.Message, now time.Time, pn pnResolver) []session.Event {
	msg := e.Message
	if msg == nil {
		return nil
	}
	base := baseMessage(&e.Info, now, pn)
	if r := msg.GetReactionMessage(); r != nil {
		d := session.ReactionData{ID: base.ID, MessageID: r.GetKey().GetID(), Chat: base.Chat, From: base.From, FromMe: base.FromMe, Emoji: r.GetText(), Timestamp: base.Timestamp, ChatLID: base.ChatLID, FromLID: base.FromLID}
		return one(inbound(event.MessageReaction, d.Timestamp, d))
	}
	if p := msg.GetProtocolMessage(); p != nil {
		switch p.GetType() {
		case waE2E.ProtocolMessage_REVOKE:
			d := session.DeleteData{ID: base.ID, MessageID: p.GetKey().GetID(), Chat: base.Chat, From: base.From, FromMe: base.FromMe, Timestamp: base.Timestamp, ChatLID: base.ChatLID, FromLID: base.FromLID}
			return one(inbound(event.MessageDeleted, d.Timestamp, d))
		case waE2E.ProtocolMessage_MESSAGE_EDIT:
			d := session.EditData{ID: base.ID, MessageID: p.GetKey().GetID(), Chat: base.Chat, From: base.From, FromMe: base.FromMe, Text: editedText(p.GetEditedMessage()), Timestamp: base.Timestamp, ChatLID: base.ChatLID, FromLID: base.FromLID}
			return one(inbound(event.MessageEdited, d.Timestamp, d))
		}
		return nil
	}
	if msg.GetPollUpdateMessage() != nil || msg.GetEncReactionMessage() != nil || onlyProtocolParts(msg) {
		return nil
	}
	d := base
	d.ViewOnce, d.Ephemeral = e.IsViewOnce, e.IsEphemeral
	describe(msg, &d)
	if ci := contextInfo(msg); ci != nil {
		d.ReplyTo = ci.GetStanzaID()
		d.Forwarded = ci.GetIsForwarded()
	}
	in := inbound(event.MessageReceived, d.Timestamp, d)
	in.Media = mediaRef(msg, &e.Info)
	return one(in)
}

// describe sets the type and content of a message.
func describe(msg *waE2E.Message, d *session.MessageData) {
	switch {
	case msg.Conversation != nil || msg.ExtendedTextMessage != nil:
		d.Type, d.Text = "text", textOf(msg)
	case msg.ImageMessage != nil:
		m := msg.ImageMessage
		d.Type = "image"
		d.Media = &session.MediaData{MIME: m.GetMimetype(), Size: m.GetFileLength(), SHA256: hexOrEmpty(m.GetFileSHA256()), Caption: m.GetCaption(), Width: m.GetWidth(), Height: m.GetHeight()}
	case msg.VideoMessage != nil || msg.PtvMessage != nil:
		m := msg.VideoMessage
		if m == nil {
			m = msg.PtvMessage
		}
		d.Type = "video"
		d.Media = &session.MediaData{MIME: m.GetMimetype(), Size: m.GetFileLength(), SHA256: hexOrEmpty(m.GetFileSHA256()), Caption: m.GetCaption(), Seconds: m.GetSeconds(), Width: m.GetWidth(), Height: m.GetHeight(), Animated: m.GetGifPlayback()}
	case msg.AudioMessage != nil:
		m := msg.AudioMessage
		d.Type = "audio"
		d.Media = &session.MediaData{MIME: m.GetMimetype(), Size: m.GetFileLength(), SHA256: hexOrEmpty(m.GetFileSHA256()), Seconds: m.GetSeconds(), Voice: m.GetPTT()}
	case msg.DocumentMessage != nil:
		m := msg.DocumentMessage
		d.Type = "document"
		d.Media = &session.MediaData{MIME: m.GetMimetype(), Size: m.GetFileLength(), SHA256: hexOrEmpty(m.GetFileSHA256()), Filename: m.GetFileName(), Caption: m.GetCaption(), Pages: m.GetPageCount()}
	case msg.StickerMessage != nil:
		m := msg.StickerMessage
		d.Type = "sticker"
		d.Media = &session.MediaData{MIME: m.GetMimetype(), Size: m.GetFileLength(), SHA256: hexOrEmpty(m.GetFileSHA256()), Width: m.GetWidth(), Height: m.GetHeight(), Animated: m.GetIsAnimated()}
	case msg.LocationMessage != nil:
		m := msg.LocationMessage
		d.Type = "location"
		d.Location = &session.LocationData{Latitude: finite(m.GetDegreesLatitude()), Longitude: finite(m.GetDegreesLongitude()), Name: m.GetName(), Address: m.GetAddress(), URL: m.GetURL(), Live: m.GetIsLive()}
	case msg.LiveLocationMessage != nil:
		m := msg.LiveLocationMessage
		d.Type, d.Text = "location", m.GetCaption()
		d.Location = &session.LocationData{Latitude: finite(m.GetDegreesLatitude()), Longitude: finite(m.GetDegreesLongitude()), Live: true}
	case msg.ContactMessage != nil:
		d.Type = "contact"
		d.Contacts = []session.ContactData{{Name: msg.ContactMessage.GetDisplayName(), VCard: msg.ContactMessage.GetVcard()}}
	case msg.ContactsArrayMessage != nil:
		d.Type = "contact"
		for _, c := range msg.ContactsArrayMessage.GetContacts() {
			d.Contacts = append(d.Contacts, session.ContactData{Name: c.GetDisplayName(), VCard: c.GetVcard()})
		}
	case pollOf(msg) != nil:
		p := pollOf(msg)
		d.Type = "poll"
		d.Poll = &session.PollData{Name: p.GetName(), Selectable: int(p.GetSelectableOptionsCount()), Options: []string{}}
		for _, o := range p.GetOptions() {
			d.Poll.Options = append(d.Poll.Options, o.GetOptionName())
		}
	default:
		d.Type = "unsupported"
	}
}

func pollOf(msg *waE2E.Message) *waE2E.PollCreationMessage {
	for _, p := range []*waE2E.PollCreationMessage{msg.PollCreationMessage, msg.PollCreationMessageV2, msg.PollCreationMessageV3, msg.PollCreationMessageV5} {
		if p != nil {
			return p
		}
	}
	return nil
}

// textOf is the text of a text message.
func textOf(msg *waE2E.Message) string {
	if msg.GetConversation() != "" {
		return msg.GetConversation()
	}
	return msg.GetExtendedTextMessage().GetText()
}

// editedText is the new text of an edit: a text's, or the new caption of
// an image, video or document.
func editedText(msg *waE2E.Message) string {
	if t := textOf(msg); t != "" {
		return t
	}
	for _, c := range []string{msg.GetImageMessage().GetCaption(), msg.GetVideoMessage().GetCaption(), msg.GetDocumentMessage().GetCaption()} {
		if c != "" {
			return c
		}
	}
	return ""
}

// contextInfo is the context (quote, forward) of whichever content msg has.
func contextInfo(msg *waE2E.Message) *waE2E.ContextInfo {
	for _, ci := range []*waE2E.ContextInfo{
		msg.GetExtendedTextMessage().GetContextInfo(),
		msg.GetImageMessage().GetContextInfo(),
		msg.GetVideoMessage().GetContextInfo(),
		msg.GetPtvMessage().GetContextInfo(),
		msg.GetAudioMessage().GetContextInfo(),
		msg.GetDocumentMessage().GetContextInfo(),
		msg.GetStickerMessage().GetContextInfo(),
		msg.GetLocationMessage().GetContextInfo(),
		msg.GetLiveLocationMessage().GetContextInfo(),
		msg.GetContactMessage().GetContextInfo(),
		msg.GetContactsArrayMessage().GetContextInfo(),
		pollOf(msg).GetContextInfo(),
	} {
		if ci != nil {
			return ci
		}
	}
	return nil
}

// onlyProtocolParts reports whether msg carries nothing but encryption
// plumbing (sender keys, message secrets).
func onlyProtocolParts(msg *waE2E.Message) bool {
	only := true
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch fd.Name() {
		case "senderKeyDistributionMessage", "fastRatchetKeySenderKeyDistributionMessage", "messageContextInfo":
			return true
		}
		only = false
		return false
	})
	return only
}

// finite replaces NaN and infinities, which JSON cannot carry, with 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func hexOrEmpty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return hex.EncodeToString(b)
}

// receiptStatus maps the receipts about messages we sent to their status
// and event; the others (our own devices' reads, retries, sender receipts)
// are whatsmeow's business. A server-error receipt says WhatsApp's server
// could not deliver a message it had accepted: the message fails, unless
// it was delivered already (see store.StatusFailedAfterSent).
var receiptStatus = map[types.ReceiptType]struct{ status, typ string }{
	types.ReceiptTypeDelivered:   {"delivered", event.MessageDelivered},
	types.ReceiptTypeRead:        {"read", event.MessageRead},
	types.ReceiptTypePlayed:      {"played", event.MessagePlayed},
	types.ReceiptTypeServerError: {session.StatusFailed, event.MessageFailed},
}

func receiptEvents(e *events.Receipt, now time.Time, pn pnResolver) []session.Event {
	rs, ok := receiptStatus[e.Type]
	if !ok || e.IsFromMe || len(e.MessageIDs) == 0 {
		return nil
	}
	ids := make([]string, len(e.MessageIDs))
	copy(ids, e.MessageIDs)
	d := session.ReceiptData{IDs: ids, Status: rs.status, Timestamp: orNow(e.Timestamp, now)}
	d.Chat, d.ChatLID = pn.address(e.Chat, chatAlt(&e.MessageSource))
	d.From, d.FromLID = pn.address(e.Sender, e.SenderAlt)
	ev := inbound(rs.typ, d.Timestamp, d)
	ev.MessageIDs, ev.Status = ids, rs.status
	return one(ev)
}

// groupEvents splits one group change into member events and an update.
func groupEvents(e *events.GroupInfo, now time.Time, pn pnResolver) []session.Event {
	base := session.GroupData{Group: jidString(e.JID), Timestamp: orNow(e.Timestamp, now)}
	base.By, base.ByLID = pn.address(jidOrEmpty(e.Sender), jidOrEmpty(e.SenderPN))
	var out []session.Event
	if len(e.Join) > 0 {
		d := base
		d.Participants, d.ParticipantsLID = pn.addresses(e.Join)
		d.Reason = e.JoinReason
		out = append(out, inbound(event.GroupMemberAdded, d.Timestamp, d))
	}
	if len(e.Leave) > 0 {
		d := base
		d.Participants, d.ParticipantsLID = pn.addresses(e.Leave)
		out = append(out, inbound(event.GroupMemberRemoved, d.Timestamp, d))
	}
	d, changed := base, false
	if e.Name != nil {
		d.Name, changed = e.Name.Name, true
	}
	if e.Topic != nil {
		d.Topic, d.TopicDeleted, changed = e.Topic.Topic, e.Topic.TopicDeleted, true
	}
	if e.Locked != nil {
		d.Locked, changed = &e.Locked.IsLocked, true
	}
	if e.Announce != nil {
		d.Announce, changed = &e.Announce.IsAnnounce, true
	}
	if e.Ephemeral != nil {
		secs := uint32(0)
		if e.Ephemeral.IsEphemeral {
			secs = e.Ephemeral.DisappearingTimer
		}
		d.Ephemeral, changed = &secs, true
	}
	if e.MembershipApprovalMode != nil {
		d.JoinApproval, changed = &e.MembershipApprovalMode.IsJoinApprovalRequired, true
	}
	if e.Delete != nil {
		d.Deleted, changed = e.Delete.Deleted, true
	}
	if e.NewInviteLink != nil {
		d.InviteLink, changed = *e.NewInviteLink, true
	}
	if len(e.Promote) > 0 {
		d.Promoted, _ = pn.addresses(e.Promote)
		changed = true
	}
	if len(e.Demote) > 0 {
		d.Demoted, _ = pn.addresses(e.Demote)
		changed = true
	}
	if changed {
		out = append(out, inbound(event.GroupUpdated, d.Timestamp, d))
	}
	return out
}

// joinedGroup reports a group this account was added to or created as
// group.created with what is known of it.
func joinedGroup(e *events.JoinedGroup, now time.Time, pn pnResolver) session.Inbound {
	d := session.GroupData{
		Group:     jidString(e.JID),
		Name:      e.Name,
		Topic:     e.Topic,
		Timestamp: orNow(e.GroupCreated, now),
		Reason:    e.Reason,
	}
	d.Owner, _ = pn.address(e.OwnerJID, e.OwnerPN)
	d.By, d.ByLID = pn.address(jidOrEmpty(e.Sender), jidOrEmpty(e.SenderPN))
	if d.Reason == "" {
		d.Reason = "added"
		if e.Type == "new" {
			d.Reason = "created"
		}
	}
	for _, p := range e.Participants {
		// A participant carries both forms when WhatsApp sent them.
		alt := p.PhoneNumber
		if p.JID.Server != types.HiddenUserServer {
			alt = p.LID
		}
		key, lid := pn.address(p.JID, alt)
		if lid == "" && !p.LID.IsEmpty() {
			lid = p.LID.ToNonAD().String()
		}
		d.Participants = append(d.Participants, key)
		d.ParticipantsLID = append(d.ParticipantsLID, lid)
		if p.IsAdmin || p.IsSuperAdmin {
			d.Admins = append(d.Admins, key)
		}
	}
	if !slices.ContainsFunc(d.ParticipantsLID, func(s string) bool { return s != "" }) {
		d.ParticipantsLID = nil
	}
	return inbound(event.GroupCreated, d.Timestamp, d)
}

func callEvent(m types.BasicCallMeta, status string, video bool, reason string, now time.Time, pn pnResolver) session.Inbound {
	from, alt := m.CallCreator, m.CallCreatorAlt
	if from.IsEmpty() {
		from, alt = m.From, types.EmptyJID
	}
	d := session.CallData{ID: m.CallID, Group: jidString(m.GroupJID), Video: video, Status: status, Reason: reason, Timestamp: orNow(m.Timestamp, now)}
	d.From, d.FromLID = pn.address(from, alt)
	return inbound(event.CallReceived, d.Timestamp, d)
}
