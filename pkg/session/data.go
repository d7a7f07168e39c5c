package session

import "time"

// Data of the Inbound events the drivers emit: the "data" of the wagate
// event the worker publishes. Both drivers encode the same types, so the
// simulator's events have the whatsmeow driver's shape; a field the
// simulator has nothing for is left out (omitempty) or zero. JIDs are
// strings such as "15551234567@s.whatsapp.net" or "1203630…@g.us".
type (
	// MessageData is the data of message.received. Type is one of text,
	// image, video, audio, document, sticker, location, contact, poll,
	// undecryptable or unsupported; the matching field (Media, Location,
	// Contacts, Poll) carries the content. Media is described, not
	// downloaded.
	MessageData struct {
		ID     string `json:"id"`
		Chat   string `json:"chat"`
		From   string `json:"from"`
		FromMe bool   `json:"from_me"`
		// ChatLID and FromLID are the LIDs WhatsApp addressed the chat and
		// the sender by; Chat and From are then their phone numbers when
		// known (see lid.go). AddressingMode is "pn" or "lid" as WhatsApp
		// sent it.
		ChatLID        string    `json:"chat_lid,omitempty"`
		FromLID        string    `json:"from_lid,omitempty"`
		AddressingMode string    `json:"addressing_mode,omitempty"`
		IsGroup        bool      `json:"is_group,omitempty"`
		Type           string    `json:"type"`
		Text           string    `json:"text"`
		PushName       string    `json:"push_name"`
		Timestamp      time.Time `json:"timestamp"`
		// ReplyTo is the id of the quoted message.
		ReplyTo   string        `json:"reply_to,omitempty"`
		Forwarded bool          `json:"forwarded,omitempty"`
		ViewOnce  bool          `json:"view_once,omitempty"`
		Ephemeral bool          `json:"ephemeral,omitempty"`
		Media     *MediaData    `json:"media,omitempty"`
		Location  *LocationData `json:"location,omitempty"`
		Contacts  []ContactData `json:"contacts,omitempty"`
		Poll      *PollData     `json:"poll,omitempty"`
		// Unavailable (undecryptable only): the sender sent no ciphertext
		// for this device, as opposed to one that failed to decrypt.
		Unavailable bool `json:"unavailable,omitempty"`
	}
	// MediaData describes an image, video, audio, document or sticker.
	MediaData struct {
		MIME     string `json:"mime"`
		Size     uint64 `json:"size"`
		SHA256   string `json:"sha256,omitempty"`
		Filename string `json:"filename,omitempty"`
		Caption  string `json:"caption,omitempty"`
		Seconds  uint32 `json:"seconds,omitempty"`
		Width    uint32 `json:"width,omitempty"`
		Height   uint32 `json:"height,omitempty"`
		Pages    uint32 `json:"pages,omitempty"`
		// Voice: an audio recorded as a voice note (push-to-talk).
		Voice    bool `json:"voice,omitempty"`
		Animated bool `json:"animated,omitempty"`
	}
	// LocationData is a shared place or a live location.
	LocationData struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name,omitempty"`
		Address   string  `json:"address,omitempty"`
		URL       string  `json:"url,omitempty"`
		Live      bool    `json:"live,omitempty"`
	}
	// ContactData is one shared contact card.
	ContactData struct {
		Name  string `json:"name"`
		VCard string `json:"vcard"`
	}
	// PollData is a poll's question and options.
	PollData struct {
		Name       string   `json:"name"`
		Options    []string `json:"options"`
		Selectable int      `json:"selectable"`
	}
	// PollVoteData is the data of message.poll_vote: From's current
	// choice in the poll MessageID (its WhatsApp id). A vote replaces the
	// voter's earlier one; an empty Selected withdraws it. Unknown holds,
	// hex-encoded, the SHA-256 hashes of selected options whose names the
	// message log does not know (a poll it never saw).
	PollVoteData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		FromMe    bool      `json:"from_me,omitempty"`
		Selected  []string  `json:"selected"`
		Unknown   []string  `json:"unknown_hashes,omitempty"`
		Timestamp time.Time `json:"timestamp"`
	}
	// ReceiptData is the data of message.delivered, message.read and
	// message.played: IDs are WhatsApp message ids, From who read them.
	ReceiptData struct {
		IDs       []string  `json:"ids"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from,omitempty"`
		FromLID   string    `json:"from_lid,omitempty"`
		Status    string    `json:"status"`
		Timestamp time.Time `json:"timestamp"`
	}
	// ReactionData is the data of message.reaction; an empty Emoji removes
	// the reaction.
	ReactionData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		FromMe    bool      `json:"from_me,omitempty"`
		Emoji     string    `json:"emoji"`
		Timestamp time.Time `json:"timestamp"`
	}
	// EditData is the data of message.edited: MessageID's new text.
	EditData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		FromMe    bool      `json:"from_me,omitempty"`
		Text      string    `json:"text"`
		Timestamp time.Time `json:"timestamp"`
	}
	// DeleteData is the data of message.deleted: MessageID was revoked
	// for everyone.
	DeleteData struct {
		ID        string    `json:"id"`
		MessageID string    `json:"message_id"`
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		FromMe    bool      `json:"from_me,omitempty"`
		Timestamp time.Time `json:"timestamp"`
	}
	// PresenceData is the data of presence.updated: a subscribed contact's
	// online status, available or unavailable (with LastSeen when known).
	PresenceData struct {
		From      string     `json:"from"`
		FromLID   string     `json:"from_lid,omitempty"`
		State     string     `json:"state"`
		LastSeen  *time.Time `json:"last_seen,omitempty"`
		Timestamp time.Time  `json:"timestamp"`
	}
	// ChatPresenceData is the data of chat.presence: From is composing
	// (typing), recording (a voice note) or paused in Chat.
	ChatPresenceData struct {
		Chat      string    `json:"chat"`
		ChatLID   string    `json:"chat_lid,omitempty"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		State     string    `json:"state"`
		Timestamp time.Time `json:"timestamp"`
	}
	// CallData is the data of call.received. Status follows the call:
	// offer (ringing, 1:1), offer_notice (group call), accept, reject,
	// terminate (with Reason).
	CallData struct {
		ID        string    `json:"id"`
		From      string    `json:"from"`
		FromLID   string    `json:"from_lid,omitempty"`
		Group     string    `json:"group,omitempty"`
		Video     bool      `json:"video"`
		Status    string    `json:"status"`
		Reason    string    `json:"reason,omitempty"`
		Timestamp time.Time `json:"timestamp"`
	}
	// GroupData is the data of group.created, group.member_added,
	// group.member_removed and group.updated; only the fields that changed
	// (or, for group.created, that are known) are set.
	GroupData struct {
		Group        string   `json:"group"`
		Name         string   `json:"name,omitempty"`
		Topic        string   `json:"topic,omitempty"`
		Participants []string `json:"participants,omitempty"`
		// ParticipantsLID, parallel to Participants, holds the LID of each
		// participant WhatsApp named by LID ("" for the others); omitted
		// when none was.
		ParticipantsLID []string  `json:"participants_lid,omitempty"`
		By              string    `json:"by,omitempty"`
		ByLID           string    `json:"by_lid,omitempty"`
		Timestamp       time.Time `json:"timestamp"`
		// Reason: "invite" when members joined through an invite link.
		Reason    string   `json:"reason,omitempty"`
		Owner     string   `json:"owner,omitempty"`
		Admins    []string `json:"admins,omitempty"`
		Promoted  []string `json:"promoted,omitempty"`
		Demoted   []string `json:"demoted,omitempty"`
		Locked    *bool    `json:"locked,omitempty"`
		Announce  *bool    `json:"announce,omitempty"`
		Ephemeral *uint32  `json:"ephemeral_seconds,omitempty"`
		// JoinApproval: new members need an admin's approval.
		JoinApproval *bool  `json:"join_approval,omitempty"`
		Deleted      bool   `json:"deleted,omitempty"`
		InviteLink   string `json:"invite_link,omitempty"`
		TopicDeleted bool   `json:"topic_deleted,omitempty"`
		// PictureID is the group's new picture; PictureRemoved: it has
		// none any more.
		PictureID      string `json:"picture_id,omitempty"`
		PictureRemoved bool   `json:"picture_removed,omitempty"`
	}
)
